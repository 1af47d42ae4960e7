#include "auth/credentials.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <stdexcept>
#include <vector>

#include "conveyor/text.h"

namespace conveyor::auth {
namespace {

constexpr std::string_view kHashScheme = "pbkdf2-sha256";
constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;

std::string RandomBytes(std::size_t n) {
  std::string out(n, '\0');
  // RAND_bytes fails only when the CSPRNG cannot be seeded: nothing secure can be made then.
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
    throw std::runtime_error("OpenSSL RAND_bytes failed: the CSPRNG is not seeded");
  return out;
}

std::atomic<std::uint64_t> pbkdf2_runs{0};

std::string Pbkdf2(std::string_view secret, std::string_view salt, int iterations) {
  pbkdf2_runs.fetch_add(1, std::memory_order_relaxed);
  std::string out(kHashBytes, '\0');
  if (PKCS5_PBKDF2_HMAC(secret.data(), static_cast<int>(secret.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), iterations, EVP_sha256(),
                        static_cast<int>(out.size()),
                        reinterpret_cast<unsigned char*>(out.data())) != 1)
    throw std::runtime_error("OpenSSL PKCS5_PBKDF2_HMAC failed");
  return out;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  std::string standard(text);
  std::replace(standard.begin(), standard.end(), '-', '+');
  std::replace(standard.begin(), standard.end(), '_', '/');
  while (standard.size() % 4) standard.push_back('=');
  auto decoded = Base64Decode(standard);
  if (!decoded) return std::nullopt;
  return *decoded;
}

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  while (!out.empty() && out.back() == '=') out.pop_back();
  std::replace(out.begin(), out.end(), '+', '-');
  std::replace(out.begin(), out.end(), '/', '_');
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0)
    return Fail(ErrorCode::kInvalidArgument, "is not base64 (its length is not a multiple of 4)");
  if (text.empty()) return std::string();
  std::string out(text.size() / 4 * 3, '\0');
  // EVP_DecodeBlock counts padding as zero bytes and skips some invalid input on its own:
  // check the alphabet here, and strip the bytes the padding stood for afterwards.
  std::size_t pad = text.ends_with("==") ? 2 : text.ends_with('=') ? 1 : 0;
  for (char c : text.substr(0, text.size() - pad))
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/'))
      return Fail(ErrorCode::kInvalidArgument, "is not base64");
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return Fail(ErrorCode::kInvalidArgument, "is not base64");
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

std::string HashSecret(std::string_view secret, int iterations) {
  auto salt = RandomBytes(kSaltBytes);
  return std::string(kHashScheme) + "$" + std::to_string(iterations) + "$" + Base64UrlEncode(salt) +
         "$" + Base64UrlEncode(Pbkdf2(secret, salt, iterations));
}

std::string DecoyHash(int iterations) {
  return std::string(kHashScheme) + "$" + std::to_string(iterations) + "$" +
         Base64UrlEncode(RandomBytes(kSaltBytes)) + "$" + Base64UrlEncode(RandomBytes(kHashBytes));
}

bool VerifySecret(std::string_view secret, std::string_view stored) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t pos; (pos = stored.find('$', start)) != std::string_view::npos; start = pos + 1)
    parts.push_back(stored.substr(start, pos - start));
  parts.push_back(stored.substr(start));
  if (parts.size() != 4 || parts[0] != kHashScheme) return false;
  int iterations = 0;
  auto [end, ec] = std::from_chars(parts[1].data(), parts[1].data() + parts[1].size(), iterations);
  if (ec != std::errc() || end != parts[1].data() + parts[1].size() || iterations < 1 ||
      iterations > 10'000'000)
    return false;
  auto salt = Base64UrlDecode(parts[2]);
  auto want = Base64UrlDecode(parts[3]);
  if (!salt || !want || want->size() != kHashBytes) return false;
  auto got = Pbkdf2(secret, *salt, iterations);
  return CRYPTO_memcmp(got.data(), want->data(), kHashBytes) == 0;
}

std::uint64_t Pbkdf2Runs() { return pbkdf2_runs.load(std::memory_order_relaxed); }

std::string RandomToken(std::size_t bytes) { return Base64UrlEncode(RandomBytes(bytes)); }

std::string Sha256Hex(std::string_view text) {
  // Fetched once: OpenSSL 3 looks an implicitly named digest up (under its locks) on every
  // call. Measured, it saved nothing visible (bench/README.md): the libcrypto share of the
  // producer's profile is PBKDF2 when a credential's cache entry expires.
  static EVP_MD* const sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  if (!sha256 || EVP_Digest(text.data(), text.size(), digest, nullptr, sha256, nullptr) != 1)
    throw std::runtime_error("OpenSSL cannot compute SHA-256");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * SHA256_DIGEST_LENGTH);
  for (unsigned char b : digest) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xf]);
  }
  return out;
}

std::optional<AdminKeyText> AdminKeyText::Parse(std::string_view text) {
  auto dot = text.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  auto id = Uuid::Parse(text.substr(0, dot));
  if (!id || dot + 1 == text.size()) return std::nullopt;
  return AdminKeyText{*id, std::string(text.substr(dot + 1))};
}

Result<Credential> ParseAuthorization(std::string_view header) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
  };
  header = trim(header);
  if (header.empty())
    return Fail(ErrorCode::kUnauthenticated,
                "no credentials: send Authorization: Bearer <token or admin key> or Basic "
                "base64(id:secret)");
  auto space = header.find(' ');
  auto scheme = header.substr(0, space);
  auto value = space == std::string_view::npos ? std::string_view() : trim(header.substr(space));
  if (value.size() > 4 * kMaxSecretBytes)
    return Fail(ErrorCode::kUnauthenticated, "the Authorization header is over the limit of " +
                                                 std::to_string(4 * kMaxSecretBytes) + " bytes");
  if (EqualsIgnoringCase(scheme, "Bearer")) {
    if (value.empty() || value.find(' ') != std::string_view::npos)
      return Fail(ErrorCode::kUnauthenticated, "the Bearer credential is empty or malformed");
    return BearerCredential{std::string(value)};
  }
  if (EqualsIgnoringCase(scheme, "Basic")) {
    auto decoded = Base64Decode(value);
    if (!decoded || value.empty())
      return Fail(ErrorCode::kUnauthenticated, "the Basic credential is not base64");
    auto colon = decoded->find(':');
    if (colon == std::string::npos)
      return Fail(ErrorCode::kUnauthenticated, "the Basic credential has no ':' (id:secret)");
    BasicCredential basic{decoded->substr(0, colon), decoded->substr(colon + 1)};
    if (basic.id.empty() || basic.secret.empty())
      return Fail(ErrorCode::kUnauthenticated, "the Basic credential has an empty id or secret");
    return basic;
  }
  return Fail(ErrorCode::kUnauthenticated, "the Authorization scheme '" + std::string(scheme) +
                                               "' is not supported; use Bearer or Basic");
}

}  // namespace conveyor::auth
