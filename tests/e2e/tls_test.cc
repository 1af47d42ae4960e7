// End to end (label: e2e) for HTTPS on the producer (--tls-cert, --tls-key): with a test CA
// made by the openssl command, curl that trusts the CA gets answers, one that does not is
// refused by verification, plain HTTP gets no answer; a key that does not match its
// certificate, or half of the pair, stops the producer at start naming the cause.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>

#include "e2e/e2e_fixture.h"

namespace conveyor {
namespace {

using namespace std::chrono_literals;

class Tls : public testing::E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    char dir[] = "/tmp/conveyor-tls-XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = dir;
    // A CA, and a certificate for 127.0.0.1 that it signed (P-256 keys: quick to make).
    const std::string p256 = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    std::string script =
        "cd " + dir_ + " && { openssl req -x509" + p256 +
        " -days 1 -subj /CN=conveyor-test-ca -keyout ca.key -out ca.pem && openssl req" + p256 +
        " -subj /CN=127.0.0.1 -keyout server.key -out server.csr &&"
        " printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext &&"
        " openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 1"
        " -extfile san.ext -out server.pem; } 2>/dev/null";
    ASSERT_EQ(std::system(script.c_str()), 0) << script;
  }
  void TearDown() override {
    std::filesystem::remove_all(dir_);
    E2eTest::TearDown();
  }

  std::unique_ptr<testing::ChildProcess> StartHttps(const std::string& cert,
                                                    const std::string& key) {
    port_ = testing::FreePort();
    std::vector<std::string> argv = {CONVEYOR_PRODUCER_BIN, "--http-port=" + std::to_string(port_)};
    for (auto& f : CommonFlags(testing::KafkaBrokers())) argv.push_back(f);
    if (!cert.empty()) argv.push_back("--tls-cert=" + cert);
    if (!key.empty()) argv.push_back("--tls-key=" + key);
    return std::make_unique<testing::ChildProcess>(
        argv, std::vector<std::string>{},
        testing::UniqueName("/tmp/conveyor-producer-tls-") + ".log");
  }

  // curl's exit status (0: an answer came) and the HTTP status it wrote.
  std::pair<int, std::string> Curl(const std::string& args) {
    std::string cmd =
        "curl -sS -o /dev/null -w '%{http_code}' --max-time 5 " + args + " 2>/dev/null";
    std::string out;
    FILE* f = popen(cmd.c_str(), "r");
    if (!f) return {-1, ""};
    char buf[64];
    while (fgets(buf, sizeof buf, f)) out += buf;
    int status = pclose(f);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
  }
  std::string Url(const std::string& scheme, const std::string& path) {
    return scheme + "://127.0.0.1:" + std::to_string(port_) + path;
  }

  std::string dir_;
};

TEST_F(Tls, ACurlThatTrustsTheCaIsAnsweredOverHttpsAndNothingElseIs) {
  auto producer = StartHttps(dir_ + "/server.pem", dir_ + "/server.key");
  std::string trusted = "--cacert " + dir_ + "/ca.pem ";
  ASSERT_TRUE(testing::PollUntil(
      [&] { return Curl(trusted + Url("https", "/healthz")).second == "200"; }, 30s))
      << producer->Log();
  admin_key_ = CreateAdminKey();
  auto authorized = Curl(trusted + "-H 'Authorization: Bearer " + admin_key_ + "' " +
                         Url("https", "/api/v1/admin/clients"));
  EXPECT_EQ(authorized, std::make_pair(0, std::string("200")));
  auto anonymous = Curl(trusted + Url("https", "/api/v1/admin/clients"));
  EXPECT_EQ(anonymous.second, "401");
  auto untrusted = Curl(Url("https", "/healthz"));
  EXPECT_EQ(untrusted.first, 60) << "curl: the peer's certificate cannot be verified";
  auto plain = Curl(Url("http", "/healthz"));
  EXPECT_NE(plain.first, 0) << "plain HTTP to the HTTPS port got an answer: " << plain.second;
  EXPECT_NE(producer->Log().find("listening on https://127.0.0.1:"), std::string::npos)
      << producer->Log();
}

TEST_F(Tls, AKeyThatIsNotTheCertificatesOrHalfThePairStopsTheProducerNamingIt) {
  auto mismatched = StartHttps(dir_ + "/server.pem", dir_ + "/ca.key");
  EXPECT_EQ(mismatched->Stop(0, 30s), 1 << 8) << mismatched->Log();  // exit status 1
  EXPECT_NE(mismatched->Log().find("cannot serve HTTPS with --tls-cert"), std::string::npos)
      << mismatched->Log();
  auto half = StartHttps(dir_ + "/server.pem", "");
  EXPECT_EQ(half->Stop(0, 30s), 2 << 8) << half->Log();  // exit status 2: bad flags
  EXPECT_NE(half->Log().find("give both --tls-cert and --tls-key"), std::string::npos)
      << half->Log();
}

}  // namespace
}  // namespace conveyor
