// The TwoSms clients resource (POST/GET api/v1/admin/clients): decoding a ClientRequest and
// writing the ClientResponse detail. No I/O; thread-safe after construction.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "auth/auth.h"
#include "conveyor/json_schema.h"
#include "conveyor/result.h"
#include "dialects/twosms/codec.h"

namespace conveyor::twosms {

struct ClientRequest {
  std::string name;
  std::string secret;
  Uuid user_id;
};

class ClientRequestDecoder {
 public:
  // Compiles the embedded schemas/requests/twosms.client-create.json; kInternal if broken.
  static Result<ClientRequestDecoder> Create();
  // kInvalidArgument naming the field (and the limit, for Name's 18 and Secret's 50
  // characters) when the body is not a valid ClientRequest. An XML body (<ClientRequest>) is
  // read as the same JSON document and checked by the same schema.
  Result<ClientRequest> Decode(std::string_view body, BodyFormat format = BodyFormat::kJson) const;

 private:
  explicit ClientRequestDecoder(JsonSchema schema) : schema_(std::move(schema)) {}
  JsonSchema schema_;
};

// The Detail of ClientResponse, in this order: ID, Name, Secret (only when given: the answer
// to the create, never again), UserID, AccountID (null: Conveyor has no accounts), DateCreated.
nlohmann::ordered_json ClientDetail(const ClientRecord& client,
                                    const std::optional<std::string>& secret);

// A schema failure as TwoSms names it: "Name" rather than "/Name", and "is required" for a
// missing property.
Error PlainFieldError(Error e);

}  // namespace conveyor::twosms
