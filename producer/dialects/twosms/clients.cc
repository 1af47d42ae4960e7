#include "dialects/twosms/clients.h"

#include "conveyor/json_text.h"
#include "conveyor/time_format.h"
#include "dialects/twosms/xml.h"

namespace conveyor::twosms {

Error PlainFieldError(Error e) {
  if (!e.field.empty() && e.field.front() == '/') e.field.erase(0, 1);
  if (e.message.starts_with("Missing required property")) {
    auto first = e.message.find('\'');
    auto last = e.message.rfind('\'');
    if (first != std::string::npos && last > first)
      return MakeError(ErrorCode::kInvalidArgument, "is required",
                       e.message.substr(first + 1, last - first - 1));
  }
  return e;
}

Result<ClientRequestDecoder> ClientRequestDecoder::Create() {
  auto create = JsonSchema::Embedded("requests/twosms.client-create.json");
  if (!create) return std::unexpected(create.error());
  auto update = JsonSchema::Embedded("requests/twosms.client-update.json");
  if (!update) return std::unexpected(update.error());
  return ClientRequestDecoder(std::move(*create), std::move(*update));
}

namespace {

// The body, JSON or <ClientRequest> XML, as a JSON object checked against `schema`.
Result<nlohmann::json> ReadClientBody(std::string_view text, BodyFormat format,
                                      const JsonSchema& schema) {
  nlohmann::json body;
  if (format == BodyFormat::kXml) {
    static constexpr std::string_view kFields[] = {"Name", "Secret", "UserID", "Enabled"};
    auto read = xml::RequestToJson(text, "ClientRequest", kFields);
    if (!read) return std::unexpected(read.error());
    body = std::move(*read);
  } else {
    auto read = ParseJson(text, "the request body");
    if (!read) return std::unexpected(read.error());
    body = std::move(*read);
  }
  if (!body.is_object())
    return Fail(ErrorCode::kInvalidArgument, "the request body must be a JSON object");
  if (auto valid = schema.Validate(body); !valid)
    return std::unexpected(PlainFieldError(valid.error()));
  return body;
}

}  // namespace

Result<ClientUpdate> ClientRequestDecoder::DecodeUpdate(std::string_view text,
                                                        BodyFormat format) const {
  auto body = ReadClientBody(text, format, update_);
  if (!body) return std::unexpected(body.error());
  ClientUpdate u;
  if (body->contains("Name")) u.name = (*body)["Name"].get<std::string>();
  if (body->contains("Secret")) u.secret = (*body)["Secret"].get<std::string>();
  if (body->contains("Enabled")) u.enabled = (*body)["Enabled"].get<bool>();
  if (!u.name && !u.secret && !u.enabled)
    return Fail(ErrorCode::kInvalidArgument, "give at least one of Name, Secret and Enabled");
  return u;
}

Result<ClientRequest> ClientRequestDecoder::Decode(std::string_view text, BodyFormat format) const {
  auto read = ReadClientBody(text, format, create_);
  if (!read) return std::unexpected(read.error());
  const auto& body = *read;
  ClientRequest r;
  r.name = body["Name"].get<std::string>();
  r.secret = body["Secret"].get<std::string>();
  auto user = Uuid::Parse(body["UserID"].get<std::string>());
  if (!user) return Fail(ErrorCode::kInvalidArgument, "is not a GUID", "UserID");
  r.user_id = *user;
  return r;
}

nlohmann::ordered_json ClientDetail(const ClientRecord& c,
                                    const std::optional<std::string>& secret) {
  nlohmann::ordered_json d = {{"ID", c.id.ToString()}, {"Name", c.name}};
  if (secret) d["Secret"] = *secret;
  d["UserID"] = c.user_id.ToString();
  d["AccountID"] = nullptr;
  d["DateCreated"] = FormatDotNet(c.created_at);
  d["Enabled"] = c.enabled;
  return d;
}

}  // namespace conveyor::twosms
