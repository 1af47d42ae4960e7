#include "conveyor/uuid.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <thread>

namespace conveyor {
namespace {

int Version(const Uuid& u) { return u.bytes()[6] >> 4; }
bool Rfc4122Variant(const Uuid& u) { return (u.bytes()[8] & 0xc0) == 0x80; }

long long MillisOf(const Uuid& u) {
  long long ms = 0;
  for (int i = 0; i < 6; ++i) ms = (ms << 8) | u.bytes()[static_cast<std::size_t>(i)];
  return ms;
}

long long NowMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST(Uuid, RandomIsVersion4WithTheRfcVariantAndNeverRepeats) {
  std::set<Uuid> seen;
  for (int i = 0; i < 20000; ++i) {  // several refills of the per-thread pool
    auto u = Uuid::Random();
    ASSERT_EQ(Version(u), 4) << u.ToString();
    ASSERT_TRUE(Rfc4122Variant(u)) << u.ToString();
    ASSERT_TRUE(seen.insert(u).second) << "repeated " << u.ToString();
  }
  EXPECT_TRUE(Uuid::Parse(Uuid::Random().ToString()).has_value());
}

TEST(Uuid, TimeOrderedIsVersion7CarryingTheTimeInMilliseconds) {
  auto before = NowMillis();
  auto u = Uuid::TimeOrdered();
  auto after = NowMillis();
  EXPECT_EQ(Version(u), 7) << u.ToString();
  EXPECT_TRUE(Rfc4122Variant(u));
  EXPECT_GE(MillisOf(u), before);
  EXPECT_LE(MillisOf(u), after);
}

TEST(Uuid, TimeOrderedIdsMadeInLaterMillisecondsSortAfterEarlierOnes) {
  auto first = Uuid::TimeOrdered();
  auto start = NowMillis();
  while (NowMillis() <= start + 1) std::this_thread::yield();  // the clock moves on
  auto second = Uuid::TimeOrdered();
  EXPECT_LT(first, second);
  EXPECT_LT(first.ToString(), second.ToString());  // and as text, as PostgreSQL sorts uuid
  std::set<Uuid> seen;
  for (int i = 0; i < 20000; ++i) ASSERT_TRUE(seen.insert(Uuid::TimeOrdered()).second);
}

TEST(Uuid, AForkedChildDoesNotRepeatItsParentsRandomBytes) {
  auto warm = Uuid::Random();  // the parent's pool now holds unused bytes
  (void)warm;
  int pipe_fds[2];
  ASSERT_EQ(pipe(pipe_fds), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto u = Uuid::Random();
    auto written = write(pipe_fds[1], u.bytes().data(), 16);
    _exit(written == 16 ? 0 : 1);
  }
  std::array<std::uint8_t, 16> from_child{};
  ASSERT_EQ(read(pipe_fds[0], from_child.data(), 16), 16);
  int status = 0;
  waitpid(child, &status, 0);
  close(pipe_fds[0]);
  close(pipe_fds[1]);
  auto parent_next = Uuid::Random();
  EXPECT_NE(from_child, parent_next.bytes());
}

}  // namespace
TEST(Uuid, NameBasedIsVersion5AsRfc9562GivesIt) {
  auto dns = *Uuid::Parse("6ba7b810-9dad-11d1-80b4-00c04fd430c8");  // RFC 9562 Appendix A
  EXPECT_EQ(Uuid::NameBased(dns, "www.example.com").ToString(),
            "2ed6657d-e927-568b-95e1-2665a8aea6a2");
  EXPECT_NE(Uuid::NameBased(dns, "www.example.org"), Uuid::NameBased(dns, "www.example.com"));
}

}  // namespace conveyor
