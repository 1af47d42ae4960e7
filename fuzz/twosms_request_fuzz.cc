// TwoSms task requests (dialects/twosms/codec.h, xml.h): the first byte picks create, update or
// bulk create and JSON or XML; the rest is the request body. A decoded request must keep the limits
// the header promises; a refused one must render as the dialect's error envelope, in JSON and in
// XML.
#include <cstdlib>

#include "conveyor/time_format.h"
#include "dialects/twosms/codec.h"
#include "dialects/twosms/xml.h"
#include "fuzz_input.h"
#include "http/message.h"

namespace conveyor::twosms {
namespace {

const RequestDecoder& Decoder() {
  static const RequestDecoder decoder = [] {
    auto d = RequestDecoder::Create();
    if (!d) std::abort();
    return std::move(*d);
  }();
  return decoder;
}

void CheckDecoded(const AccountTaskRequest& r) {
  if (r.parameters.size() > kMaxParametersBytes) std::abort();
}

void RenderError(const Error& e) {
  auto envelope = ErrorEnvelope(e);
  envelope.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  xml::EnvelopeToXml(envelope, "Response");
  if (http::StatusOf(e.code) < 400) std::abort();
}

}  // namespace
}  // namespace conveyor::twosms

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace conveyor;
  using namespace conveyor::twosms;
  static const Timestamp now = *ParseDateTime("2026-11-22T10:00:00Z");
  fuzz::FuzzInput in(data, size);
  auto form = in.TakeByte();
  auto format = form & 1 ? BodyFormat::kXml : BodyFormat::kJson;
  auto body = in.rest();
  switch ((form >> 1) % 3) {
    case 0: {
      auto r = Decoder().DecodeCreate(body, now, format);
      r ? CheckDecoded(*r) : RenderError(r.error());
      break;
    }
    case 1: {
      auto r = Decoder().DecodeUpdate(body, now, format);
      r ? CheckDecoded(r->fields) : RenderError(r.error());
      break;
    }
    default: {
      auto r = Decoder().DecodeBulkCreate(body, now, format);
      if (!r) {
        RenderError(r.error());
        break;
      }
      if (r->empty() || r->size() > kMaxBulkTasks) std::abort();
      for (const auto& task : *r) CheckDecoded(task);
    }
  }
  return 0;
}
