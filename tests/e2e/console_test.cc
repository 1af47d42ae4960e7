// End to end (label: e2e) for the web console: the producer serves it, and a real browser
// (Debian's chromium, headless, driven by playwright-core from .cache/node) uses it against a
// producer and a worker on the real broker and PostgreSQL. The browser's steps are in
// console/browser.cjs; screenshots go to the build folder's console-screenshots/.
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>

#include "conveyor/dead_letter.h"
#include "e2e/e2e_fixture.h"

namespace conveyor {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

class ConsoleBrowser : public testing::E2eTest {
 protected:
  void SetUp() override {
    E2eTest::SetUp();
    producer_ = StartProducer(testing::KafkaBrokers());
    worker_ = StartWorker("e2e-console");
  }

  // browser.cjs with `check` (and `extra` environment); its exit status, its output in `out`.
  int RunBrowser(const std::string& check, std::string& out, const std::string& extra = "") {
    std::filesystem::create_directories(CONVEYOR_CONSOLE_SCREENSHOTS);
    auto other_id = CreateClient("e2e-other", "another-secret-of-24-chars");
    std::string command =
        "CHECK=" + check + " CONSOLE_URL=http://127.0.0.1:" + std::to_string(port_) +
        " CLIENT_ID='" + client_id_ + "' CLIENT_SECRET='" + client_secret_ + "' OTHER_AUTH='" +
        BasicAuth(other_id, "another-secret-of-24-chars") + "' OTHER_CLIENT_ID=" + other_id +
        " ADMIN_KEY='" + admin_key_ + "' SCREENSHOT_DIR=" + CONVEYOR_CONSOLE_SCREENSHOTS +
        " NODE_PATH=" + CONVEYOR_NODE_MODULES + " " + extra + " node " +
        CONVEYOR_CONSOLE_BROWSER_SCRIPT + " 2>&1";
    if (FILE* f = popen(command.c_str(), "r")) {
      char buf[4096];
      while (std::size_t n = fread(buf, 1, sizeof buf, f)) out.append(buf, n);
      int st = pclose(f);
      return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    }
    return -1;
  }

  std::unique_ptr<testing::ChildProcess> producer_, worker_;
};

TEST_F(ConsoleBrowser, ServesItsPageScriptAndStyleWithoutCredentialsUnderAStrictPolicy) {
  auto http = Http();
  auto bare = http.Get("/console");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->status, 200);
  auto page = http.Get("/console/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->body, bare->body);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page->body.find("<script src=\"/console/console.js\" defer>"), std::string::npos);
  auto policy = page->get_header_value("Content-Security-Policy");
  EXPECT_NE(policy.find("script-src 'self'"), std::string::npos) << policy;
  EXPECT_NE(policy.find("frame-ancestors 'none'"), std::string::npos) << policy;

  for (auto [file, type] : {std::pair{"console.js", "text/javascript; charset=utf-8"},
                            std::pair{"console.css", "text/css; charset=utf-8"}}) {
    auto r = http.Get(std::string("/console/") + file);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 200) << file;
    EXPECT_EQ(r->get_header_value("Content-Type"), type) << file;
    EXPECT_GT(r->body.size(), 1000u) << file;
  }
  auto missing = http.Get("/console/nothing.js");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  auto outside = http.Get("/console/..%2Fschemas");
  ASSERT_TRUE(outside);
  EXPECT_NE(outside->status, 200) << "only the console's own files are served";
}

TEST_F(ConsoleBrowser, AClientWatchesASleepTaskProgressInThePageAndStopsItThere) {
  std::string out;
  EXPECT_EQ(RunBrowser("progress-and-stop", out), 0) << out;
  EXPECT_NE(out.find("every check held"), std::string::npos) << out;
}

TEST_F(ConsoleBrowser, AClientsConsoleShowsNoOtherClientsTaskAndAnAdminsShowsBoth) {
  std::string out;
  EXPECT_EQ(RunBrowser("isolation", out), 0) << out;
  EXPECT_NE(out.find("every check held"), std::string::npos) << out;
}

// The dead-letter view: a create held back from the workers (the producer publishes to a topic
// no worker reads) is put on the dead-letter topic as a worker would, naming the real commands
// topic as its origin; an admin replays it from the page and the worker then creates the task.
class ConsoleDeadLetters : public ConsoleBrowser {
 protected:
  void SetUp() override {
    testing::E2eTest::SetUp();
    producer_ = StartProducerHoldingCommands();
    worker_ = StartWorker("e2e-console-dlq");
  }
};

TEST_F(ConsoleDeadLetters, AnAdminSeesTheQueueAndReplaysADeadLetterFromThePage) {
  auto [id, dead] = DeadLetterAHeldCreate("held back by the test");
  ASSERT_FALSE(id.empty());
  ASSERT_EQ(Count("SELECT count(*) FROM tasks WHERE id = '" + id + "'"), 0);

  std::string out;
  EXPECT_EQ(RunBrowser("dead-letters", out,
                       "DEAD_LETTER=" + std::to_string(dead.partition) + ":" +
                           std::to_string(dead.offset)),
            0)
      << out;
  EXPECT_NE(out.find("every check held"), std::string::npos) << out;
  EXPECT_TRUE(CountBecomes("SELECT count(*) FROM tasks WHERE id = '" + id + "'", 1))
      << "the replayed create reached the worker\n"
      << worker_->Log();
}

}  // namespace
}  // namespace conveyor
