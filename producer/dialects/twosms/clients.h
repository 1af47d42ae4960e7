// The TwoSms clients resource (api/v1/admin/clients): decoding a ClientRequest or a
// ClientUpdateRequest and writing the ClientResponse detail. No I/O; thread-safe after
// construction.
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

// The fields a ClientUpdateRequest changes: those it gives.
struct ClientUpdate {
  std::optional<std::string> name, secret;
  std::optional<bool> enabled;
};

class ClientRequestDecoder {
 public:
  // Compiles the embedded schemas/requests/twosms.client-create.json and client-update.json;
  // kInternal if broken.
  static Result<ClientRequestDecoder> Create();
  // kInvalidArgument naming the field (and the limit, for Name's 18 and Secret's 50
  // characters) when the body is not a valid ClientRequest. An XML body (<ClientRequest>) is
  // read as the same JSON document and checked by the same schema.
  Result<ClientRequest> Decode(std::string_view body, BodyFormat format = BodyFormat::kJson) const;
  // The same for a ClientUpdateRequest (<ClientRequest> in XML too), which gives at least one
  // of Name, Secret and Enabled.
  Result<ClientUpdate> DecodeUpdate(std::string_view body,
                                    BodyFormat format = BodyFormat::kJson) const;

 private:
  ClientRequestDecoder(JsonSchema create, JsonSchema update)
      : create_(std::move(create)), update_(std::move(update)) {}
  JsonSchema create_, update_;
};

// The Detail of ClientResponse, in this order: ID, Name, Secret (only when given: the answer
// to the create or to a new secret, never again), UserID, AccountID (null: Conveyor has no
// accounts), DateCreated, Enabled (Conveyor's addition).
nlohmann::ordered_json ClientDetail(const ClientRecord& client,
                                    const std::optional<std::string>& secret);

// A schema failure as TwoSms names it: "Name" rather than "/Name", and "is required" for a
// missing property.
Error PlainFieldError(Error e);

}  // namespace conveyor::twosms
