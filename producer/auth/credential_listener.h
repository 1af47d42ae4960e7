// Hears changes to stored credentials and tells the Authenticator at once: a LISTEN on the
// channel conveyor_credentials (migration 0012's triggers announce the id of every client, admin
// key or token owner whose credential changed, whoever changed it), on a PostgreSQL connection
// of its own, on a thread of its own.
//
// Each announcement → Authenticator::Forget(id). While the connection is down nothing can be
// heard, so the Authenticator is told to remember nothing (SetListening(false)) until the
// listener is connected again; every producer therefore stops honouring a changed credential
// as soon as the change commits, cache or not. Start and Stop from one thread; Stop joins.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "auth/auth.h"

namespace conveyor {

class CredentialListener {
 public:
  static constexpr char kChannel[] = "conveyor_credentials";

  CredentialListener(std::string pg_url, Authenticator& auth,
                     std::chrono::milliseconds retry = std::chrono::seconds(1));
  ~CredentialListener();
  CredentialListener(const CredentialListener&) = delete;
  CredentialListener& operator=(const CredentialListener&) = delete;

  // Tells the Authenticator to remember nothing until the thread it starts is listening.
  void Start();
  void Stop();
  // Whether the listener is connected and listening now.
  bool listening() const;

 private:
  void Run();
  // Connects, listens and passes changes on until the connection breaks or Stop.
  void ListenUntilBrokenOrStopped();
  bool Stopping(std::chrono::milliseconds wait);

  std::string pg_url_;
  Authenticator& auth_;
  std::chrono::milliseconds retry_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool listening_ = false;
  std::thread thread_;
};

}  // namespace conveyor
