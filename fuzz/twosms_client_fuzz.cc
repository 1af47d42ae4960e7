// The TwoSms ClientRequest and ClientUpdateRequest (clients.h): the first byte picks JSON or
// XML (bit 0) and create or update (bit 1), the rest is the body. A decoded request keeps the
// schema's limits; a refused one renders as the dialect's error envelope.
#include <cstdlib>

#include "dialects/twosms/clients.h"
#include "dialects/twosms/xml.h"
#include "fuzz_input.h"

namespace {

const conveyor::twosms::ClientRequestDecoder& Decoder() {
  static const conveyor::twosms::ClientRequestDecoder decoder = [] {
    auto d = conveyor::twosms::ClientRequestDecoder::Create();
    if (!d) std::abort();
    return std::move(*d);
  }();
  return decoder;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace conveyor;
  using namespace conveyor::twosms;
  fuzz::FuzzInput in(data, size);
  auto choice = in.TakeByte();
  auto format = choice & 1 ? BodyFormat::kXml : BodyFormat::kJson;
  Error error;
  if (choice & 2) {
    auto u = Decoder().DecodeUpdate(in.rest(), format);
    if (u) {
      if (!u->name && !u->secret && !u->enabled) std::abort();
      if (u->secret && (u->secret->size() < 16 || u->secret->size() > 50 * 4)) std::abort();
      return 0;
    }
    error = u.error();
  } else {
    auto r = Decoder().Decode(in.rest(), format);
    if (r) {
      if (r->name.empty() || r->secret.size() < 16) std::abort();
      return 0;
    }
    error = r.error();
  }
  auto envelope = ErrorEnvelope(error);
  envelope.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  xml::EnvelopeToXml(envelope, "Response");
  return 0;
}
