// The worker's decoding of a command read from conveyor.commands (command_processor.h):
// CommandProcessor::Decode, the CloudEvents envelope, the schema of its type and the data
// decoder, as the consumer loop meets every message before it applies a batch. A message that
// cannot be decoded must be refused with a reason (it is dead-lettered), never crash the
// worker. The store and publisher are the unit tests' fakes; Decode touches neither.
#include <cstdlib>

#include "src/command_processor.h"
#include "support/fakes.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace conveyor;
  static testing::FakeTaskStore store;
  static testing::RecordingPublisher publisher;
  static const CommandProcessor processor = [] {
    auto p = CommandProcessor::Create({"conveyor.commands.dlq"}, store, publisher);
    if (!p) std::abort();
    return std::move(*p);
  }();
  ConsumedMessage message{
      "conveyor.commands", 0, 0, "", std::string(reinterpret_cast<const char*>(data), size), {}};
  auto command = processor.Decode(message);
  if (!command && command.error().Describe().empty()) std::abort();
  return 0;
}
