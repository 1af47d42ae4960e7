#include "auth/credential_listener.h"

#include <pqxx/pqxx>

#include "conveyor/logging.h"
#include "conveyor/pg.h"

namespace conveyor {
namespace {

// Passes each announced id on to the Authenticator.
class ChangeReceiver final : public pqxx::notification_receiver {
 public:
  ChangeReceiver(pqxx::connection_base& conn, Authenticator& auth)
      : pqxx::notification_receiver(conn, CredentialListener::kChannel), auth_(auth) {}
  void operator()(const std::string& payload, int) override {
    if (auto id = Uuid::Parse(payload)) auth_.Forget(*id);
  }

 private:
  Authenticator& auth_;
};

constexpr long kAwaitMicroseconds = 200000;  // how often the thread looks for Stop

}  // namespace

CredentialListener::CredentialListener(std::string pg_url, Authenticator& auth,
                                       std::chrono::milliseconds retry)
    : pg_url_(std::move(pg_url)), auth_(auth), retry_(retry) {}

CredentialListener::~CredentialListener() { Stop(); }

void CredentialListener::Start() {
  auth_.SetListening(false);
  thread_ = std::thread([this] { Run(); });
}

void CredentialListener::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool CredentialListener::listening() const {
  std::lock_guard lock(mutex_);
  return listening_;
}

bool CredentialListener::Stopping(std::chrono::milliseconds wait) {
  std::unique_lock lock(mutex_);
  return wake_.wait_for(lock, wait, [this] { return stopping_; });
}

void CredentialListener::Run() {
  auto log = logging::Get("auth");
  while (!Stopping(std::chrono::milliseconds(0))) {
    try {
      ListenUntilBrokenOrStopped();
    } catch (const std::exception& e) {
      log->warn(
          "credential changes cannot be heard ({}); remembering no credential until they "
          "can",
          e.what());
    }
    auth_.SetListening(false);
    {
      std::lock_guard lock(mutex_);
      listening_ = false;
    }
    if (Stopping(retry_)) return;
  }
}

void CredentialListener::ListenUntilBrokenOrStopped() {
  pqxx::connection conn(PgUrlWithKeepalives(pg_url_));
  ChangeReceiver receiver(conn, auth_);  // LISTEN, answered by the server before it returns
  auth_.SetListening(true);              // an empty cache: nothing missed before now is remembered
  {
    std::lock_guard lock(mutex_);
    listening_ = true;
  }
  logging::Get("auth")->info("listening for credential changes on {}", kChannel);
  while (!Stopping(std::chrono::milliseconds(0))) conn.await_notification(0, kAwaitMicroseconds);
}

}  // namespace conveyor
