#include "conveyor/uuid.h"

#include <pthread.h>
#include <sys/random.h>
#include <uuid/uuid.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace conveyor {
namespace {

// Bumped in the child of every fork, so that a child never hands out its parent's bytes.
std::atomic<unsigned> fork_generation{0};

unsigned ForkGeneration() {
  static const bool registered = [] {
    pthread_atfork(nullptr, nullptr, [] { fork_generation.fetch_add(1); });
    return true;
  }();
  (void)registered;
  return fork_generation.load(std::memory_order_relaxed);
}

// 16 random bytes from the kernel's CSPRNG, drawn 4 KiB at a time per thread: a getrandom
// call per 256 UUIDs. libuuid's uuid_generate_random reseeded random(3) on every call, which
// cost the producer about 2 µs per UUID.
void RandomBytes(std::uint8_t* out) {
  struct Pool {
    std::array<std::uint8_t, 4096> bytes;
    std::size_t used = 4096;
    unsigned generation = 0;
  };
  thread_local Pool pool;
  unsigned generation = ForkGeneration();
  if (pool.used == pool.bytes.size() || pool.generation != generation) {
    std::size_t filled = 0;
    while (filled < pool.bytes.size()) {
      auto n = getrandom(pool.bytes.data() + filled, pool.bytes.size() - filled, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw std::runtime_error("getrandom failed");
      filled += static_cast<std::size_t>(n);
    }
    pool.used = 0;
    pool.generation = generation;
  }
  std::memcpy(out, pool.bytes.data() + pool.used, 16);
  pool.used += 16;
}

}  // namespace

Uuid Uuid::NameBased(const Uuid& name_space, std::string_view name) {
  uuid_t space, out;
  std::copy(name_space.bytes().begin(), name_space.bytes().end(), space);
  uuid_generate_sha1(out, space, name.data(), name.size());
  std::uint8_t bytes[16];
  std::copy(out, out + 16, bytes);
  return FromBytes(bytes);
}

Uuid Uuid::Random() {
  Uuid u;
  RandomBytes(u.bytes_.data());
  u.bytes_[6] = static_cast<std::uint8_t>((u.bytes_[6] & 0x0f) | 0x40);  // version 4
  u.bytes_[8] = static_cast<std::uint8_t>((u.bytes_[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return u;
}

Uuid Uuid::TimeOrdered() {
  Uuid u;
  RandomBytes(u.bytes_.data());
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  for (int i = 0; i < 6; ++i)  // 48-bit big-endian Unix time in milliseconds
    u.bytes_[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(ms >> (8 * (5 - i)));
  u.bytes_[6] = static_cast<std::uint8_t>((u.bytes_[6] & 0x0f) | 0x70);  // version 7
  u.bytes_[8] = static_cast<std::uint8_t>((u.bytes_[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return u;
}

std::optional<Uuid> Uuid::Parse(std::string_view text) {
  if (text.size() == 38 && text.front() == '{' && text.back() == '}') text = text.substr(1, 36);
  if (text.size() != 36) return std::nullopt;
  char buf[37];
  std::memcpy(buf, text.data(), 36);
  buf[36] = '\0';
  Uuid u;
  if (uuid_parse(buf, u.bytes_.data()) != 0) return std::nullopt;
  return u;
}

std::string Uuid::ToString() const {
  char buf[37];
  uuid_unparse_lower(bytes_.data(), buf);
  return std::string(buf, 36);
}

bool Uuid::is_nil() const {
  return std::all_of(bytes_.begin(), bytes_.end(), [](std::uint8_t b) { return b == 0; });
}

}  // namespace conveyor
