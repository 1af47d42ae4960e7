// The cryptography and wire formats of Conveyor's credentials, with no I/O (OpenSSL).
//
// Secrets (client secrets, admin-key secrets) are stored only as PBKDF2-HMAC-SHA256 hashes
// with a random 16-byte salt, as the text "pbkdf2-sha256$<iterations>$<salt>$<hash>" (salt and
// hash base64url), so the cost can be raised later without invalidating stored hashes.
// Bearer tokens are 32 random bytes (base64url) and are stored only as their SHA-256.
// An admin key is "<key id>.<secret>"; a bearer token never contains a '.', so the two are
// told apart by shape. All functions are thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "conveyor/result.h"
#include "conveyor/uuid.h"

namespace conveyor::auth {

// OWASP's 2023 figure for PBKDF2-HMAC-SHA256. One verification costs a few hundred
// milliseconds of one core; the Authenticator caches verified credentials (auth.h).
inline constexpr int kPbkdf2Iterations = 600000;
// Secrets longer than this are refused before hashing, so a request cannot make PBKDF2 hash
// megabytes.
inline constexpr std::size_t kMaxSecretBytes = 256;

// Hashes `secret` with a fresh random salt.
std::string HashSecret(std::string_view secret, int iterations = kPbkdf2Iterations);
// A stored hash of no secret, in HashSecret's format (random salt, random hash): checking a
// secret against it costs what checking one against a real hash costs, and never matches.
std::string DecoyHash(int iterations = kPbkdf2Iterations);
// Whether `secret` matches `stored` (a HashSecret result), compared in constant time.
// A malformed `stored` matches nothing.
bool VerifySecret(std::string_view secret, std::string_view stored);

// How many PBKDF2 derivations this process has run (HashSecret and VerifySecret each run one):
// a request's share of the credential work, which the tests compare across outcomes.
std::uint64_t Pbkdf2Runs();

// `bytes` random bytes from OpenSSL's CSPRNG, base64url without padding.
std::string RandomToken(std::size_t bytes = 32);
// Lower-case hex of SHA-256(text).
std::string Sha256Hex(std::string_view text);

std::string Base64UrlEncode(std::string_view bytes);
// Standard base64 (RFC 4648 §4, padding required), as HTTP Basic uses it.
Result<std::string> Base64Decode(std::string_view text);

// An admin key as handed to an operator: "<key id>.<secret>".
struct AdminKeyText {
  Uuid id;
  std::string secret;
  std::string ToString() const { return id.ToString() + "." + secret; }
  // std::nullopt when `text` is not of that shape.
  static std::optional<AdminKeyText> Parse(std::string_view text);
};

// What an Authorization header carries.
struct BearerCredential {
  std::string token;  // a token from POST /Token, or an admin key text
};
struct BasicCredential {
  std::string id;  // a client id or an admin key id
  std::string secret;
};
using Credential = std::variant<BearerCredential, BasicCredential>;

// Parses "Bearer <token>" or "Basic base64(id:secret)" (scheme names case-insensitive, RFC
// 7235). kUnauthenticated with a message saying what is wrong: the header is empty, the
// scheme is neither, the base64 is broken, there is no ':', or a part is empty or too long.
Result<Credential> ParseAuthorization(std::string_view header);

}  // namespace conveyor::auth
