// The TwoSms ClientRequest (clients.h): the first byte picks JSON or XML, the rest is the body.
// A decoded client keeps the schema's limits; a refused one renders as the dialect's error
// envelope.
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
  auto format = in.TakeByte() & 1 ? BodyFormat::kXml : BodyFormat::kJson;
  auto r = Decoder().Decode(in.rest(), format);
  if (r) {
    if (r->name.empty() || r->secret.empty()) std::abort();
    return 0;
  }
  auto envelope = ErrorEnvelope(r.error());
  envelope.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  xml::EnvelopeToXml(envelope, "Response");
  return 0;
}
