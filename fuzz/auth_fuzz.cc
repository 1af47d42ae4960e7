// Credentials from outside (credentials.h, auth.h, http/guard.h, http/token_route.h): the
// first byte picks the request path (so the refusal is rendered in each dialect) and whether
// the rest is an Authorization header or the client_id:client_secret of a token request. A
// header goes through ParseAuthorization, AdminKeyText::Parse and Base64Decode on their own,
// then through the producer's Router as main.cc wires it (every dialect, on in-memory ports:
// tests/support/producer_on_fakes.h). A token request goes through Authenticator::IssueToken
// and, as a form body, through POST /Token. The store knows one client, one admin key and one
// token, with secrets hashed at one PBKDF2 iteration so that a verification is cheap; it is
// built once (tokens issued by one input stay for the next).
#include <cstdlib>

#include "auth/auth.h"
#include "auth/credentials.h"
#include "fuzz_input.h"
#include "support/producer_on_fakes.h"

namespace conveyor {
namespace {

// The seeds in fuzz/corpus/auth use ProducerOnFakes's credentials.
testing::ProducerOnFakes& Producer() {
  static testing::ProducerOnFakes producer;
  return producer;
}

// A path of each dialect (the refusal is answered in its error body) and a public one.
constexpr const char* kPaths[] = {
    "/api/v2/admin/tasks/account", "/api/v1/Agents/BatchTask/GetBatchTaskInfo",
    "/api/v1/BatchTask/1000", "/services/rest/connect/v1.4/tasks", "/healthz"};

void CheckHeader(std::string_view header, std::string_view path) {
  auto parsed = auth::ParseAuthorization(header);
  if (parsed)
    if (auto* basic = std::get_if<auth::BasicCredential>(&*parsed);
        basic && (basic->id.empty() || basic->secret.empty()))
      std::abort();
  auth::AdminKeyText::Parse(header);
  auth::Base64Decode(header);
  auto answer = Producer().Send("GET", std::string(path), std::string(header));
  if (answer.status == 401 && answer.Header("WWW-Authenticate").empty()) std::abort();
}

void CheckTokenRequest(std::string_view id_and_secret) {
  auto colon = id_and_secret.find(':');
  auto id = id_and_secret.substr(0, colon);
  auto secret =
      colon == std::string_view::npos ? std::string_view() : id_and_secret.substr(colon + 1);
  auto issued = Producer().auth.IssueToken(id, secret);
  if (issued && issued->access_token.empty()) std::abort();

  http::Request form;
  form.method = "POST";
  form.path = "/Token";
  form.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
  form.body = "grant_type=client_credentials&client_id=" + std::string(id) +
              "&client_secret=" + std::string(secret);
  Producer().router->Handle(form);
}

}  // namespace
}  // namespace conveyor

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace conveyor;
  fuzz::FuzzInput in(data, size);
  auto choice = in.TakeByte();
  if (choice & 0x80)
    CheckTokenRequest(in.rest());
  else
    CheckHeader(in.rest(), kPaths[choice % std::size(kPaths)]);
  return 0;
}
