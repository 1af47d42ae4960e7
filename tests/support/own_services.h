// A PostgreSQL server and a Kafka broker of one test's own, started with the project's scripts
// (scripts/postgres, scripts/kafka/kafka) in a state folder and on ports of their own, for
// tests that stop and start them under running processes without disturbing other tests.
// Everything is stopped and deleted when the object is destroyed. Starting costs an initdb
// and a broker start (about 15 s on this machine), so few tests should need it.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "support/services.h"

namespace conveyor::testing {

class OwnServices {
 public:
  OwnServices()
      : state_dir_(std::filesystem::temp_directory_path() / UniqueName("conveyor-own-")),
        pg_port_(FreePort()),
        kafka_port_(FreePort()),
        controller_port_(FreePort()) {
    std::filesystem::create_directories(state_dir_);
    started_ = Postgres("start") && Kafka("start");
  }
  ~OwnServices() {
    Kafka("reset");
    Postgres("reset");
    std::error_code ignored;
    std::filesystem::remove_all(state_dir_, ignored);
  }
  OwnServices(const OwnServices&) = delete;
  OwnServices& operator=(const OwnServices&) = delete;

  bool started() const { return started_; }
  std::string pg_url() const {
    return "postgresql://postgres@127.0.0.1:" + std::to_string(pg_port_) + "/conveyor";
  }
  std::string brokers() const { return "127.0.0.1:" + std::to_string(kafka_port_); }
  std::string log() const { return (state_dir_ / "scripts.log").string(); }

  // Each runs the script's command and says whether it succeeded (its output goes to log()).
  bool Postgres(const std::string& command) { return Run("scripts/postgres " + command); }
  bool Kafka(const std::string& command) { return Run("scripts/kafka/kafka " + command); }

 private:
  bool Run(const std::string& script_and_args) {
    std::string line = "CONVEYOR_STATE_DIR='" + state_dir_.string() +
                       "' PG_PORT=" + std::to_string(pg_port_) +
                       " KAFKA_PORT=" + std::to_string(kafka_port_) +
                       " KAFKA_CONTROLLER_PORT=" + std::to_string(controller_port_) + " '" +
                       CONVEYOR_SOURCE_DIR + "'/" + script_and_args + " >>'" + log() + "' 2>&1";
    int status = std::system(line.c_str());
    EXPECT_EQ(status, 0) << script_and_args << " failed; see " << log();
    return status == 0;
  }

  std::filesystem::path state_dir_;
  int pg_port_, kafka_port_, controller_port_;
  bool started_ = false;
};

}  // namespace conveyor::testing
