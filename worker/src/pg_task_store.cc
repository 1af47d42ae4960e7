#include "pg_task_store.h"

#include "conveyor/pg_rows.h"

namespace conveyor {
namespace {

std::optional<std::string> OptionalTimeParam(const std::optional<Timestamp>& t) {
  if (!t) return std::nullopt;
  return TimeParam(*t);
}

// Applies one create command inside `tx`; an empty string when applied, else the reason it
// cannot be.
std::string ApplyCreate(pqxx::transaction_base& tx, const IncomingCommand& c) {
  const Task& t = c.task;
  auto type = tx.exec_params("SELECT 1 FROM task_types WHERE id = $1", t.task_type_id.ToString());
  if (type.empty()) return "task type " + t.task_type_id.ToString() + " is not registered";
  auto inserted = tx.exec_params(
      R"(INSERT INTO tasks (id, number, task_type_id, client_id, enabled, frequency, start_date,
                            finish_date, parameters, content_type, notification, created_at,
                            created_by, modified_at, modified_by, last_event_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7::timestamptz, $8::timestamptz, $9, $10, $11,
                 $12::timestamptz, $13, $12::timestamptz, $13, $14)
         ON CONFLICT (id) DO NOTHING RETURNING 1)",
      t.id.ToString(), t.number, t.task_type_id.ToString(),
      t.client_id ? std::optional<std::string>(t.client_id->ToString()) : std::nullopt, t.enabled,
      std::string(FrequencyName(t.frequency)), OptionalTimeParam(t.start_date),
      OptionalTimeParam(t.finish_date), t.parameters, t.content_type,
      std::string(NotificationName(t.notification)), TimeParam(t.created_at), t.created_by,
      c.event.id.ToString());
  if (inserted.empty()) return "task " + t.id.ToString() + " exists already";
  if (t.enabled) {
    // The run's id is the command's event id: a redelivered command names the same run.
    tx.exec_params(
        "INSERT INTO runs (id, task_id, state, queued_at) VALUES ($1, $2, 'queued', "
        "$3::timestamptz)",
        c.event.id.ToString(), t.id.ToString(), TimeParam(c.event.time));
  }
  return {};
}

}  // namespace

Result<std::vector<ApplyResult>> PgTaskStore::ApplyBatch(
    const std::vector<IncomingCommand>& commands) {
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  std::vector<ApplyResult> results;
  try {
    pqxx::work tx(**lease);
    for (const auto& c : commands) {
      // A savepoint per command, so that one that cannot be applied leaves the rest intact.
      // Written out rather than pqxx::subtransaction: libpqxx 6.4 opens a subtransaction's
      // savepoint lazily on exec() but not on exec_params(), so its abort() rolled nothing back.
      tx.exec("SAVEPOINT apply");
      std::string reason;
      bool fresh = true;
      try {
        fresh = !tx.exec_params(
                       R"(INSERT INTO inbox (event_id, type, subject, source, event_time, payload,
                                kafka_topic, kafka_partition, kafka_offset)
             VALUES ($1, $2, $3, $4, $5::timestamptz, $6::jsonb, $7, $8, $9)
             ON CONFLICT (event_id) DO NOTHING RETURNING 1)",
                       c.event.id.ToString(), c.event.type, c.event.subject, c.event.source,
                       TimeParam(c.event.time), c.event.Serialize(), c.topic, c.partition, c.offset)
                     .empty();
        if (fresh) {
          if (c.event.type == kTaskCreateCommand)
            reason = ApplyCreate(tx, c);
          else
            reason = "no command type " + c.event.type;
        }
      } catch (const pqxx::data_exception& e) {
        reason = std::string("the database refused it: ") + e.what();
      } catch (const pqxx::integrity_constraint_violation& e) {
        reason = std::string("the database refused it: ") + e.what();
      }
      if (!reason.empty()) {
        tx.exec("ROLLBACK TO SAVEPOINT apply");
        results.push_back({ApplyOutcome::kRejected, std::move(reason)});
        continue;
      }
      tx.exec("RELEASE SAVEPOINT apply");
      results.push_back({fresh ? ApplyOutcome::kApplied : ApplyOutcome::kDuplicate, {}});
    }
    tx.commit();
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "applying " + std::to_string(commands.size()) + " commands"));
  }
  return results;
}

Result<std::vector<PendingRun>> PgTaskStore::FindPendingRuns(const std::vector<Uuid>& run_ids) {
  std::vector<PendingRun> out;
  if (run_ids.empty()) return out;
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::read_transaction tx(**lease);
    auto rows =
        tx.exec_params("SELECT " + TaskColumns("t") + R"(, r.id, r.state, r.start_count, ty.handler
           FROM runs r
           JOIN tasks t ON t.id = r.task_id
           JOIN task_types ty ON ty.id = t.task_type_id
          WHERE r.id = ANY($1::uuid[])
            AND r.state NOT IN ('succeeded', 'failed', 'cancelled')
          ORDER BY r.queued_at)",
                       UuidArrayParam(run_ids));
    for (const auto& row : rows) {
      constexpr int c = kTaskColumnCount;
      PendingRun p;
      p.task = TaskFromRow(row);
      p.run_id = Uuid::Parse(row[c].c_str()).value_or(Uuid());
      p.state = RunStateFromName(row[c + 1].c_str()).value_or(RunState::kQueued);
      p.start_count = row[c + 2].as<int>();
      p.handler = row[c + 3].c_str();
      out.push_back(std::move(p));
    }
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "finding pending runs"));
  }
  return out;
}

Result<std::optional<StartedRun>> PgTaskStore::StartRun(const PendingRun& run,
                                                        const std::string& worker, Timestamp now) {
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::work tx(**lease);
    auto rows = tx.exec_params(
        R"(UPDATE runs SET state = 'started', start_count = start_count + 1,
                           started_at = $2::timestamptz, finished_at = NULL, worker = $3
            WHERE id = $1 AND state IN ('queued', 'acquired', 'started')
        RETURNING start_count)",
        run.run_id.ToString(), TimeParam(now), worker);
    tx.commit();
    if (rows.empty()) return std::optional<StartedRun>();
    return std::optional<StartedRun>(StartedRun{run, rows[0][0].as<int>(), now});
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "starting run " + run.run_id.ToString()));
  }
}

Status PgTaskStore::FinishRun(const StartedRun& run, const RunOutcome& outcome,
                              const std::optional<OutgoingMessage>& notification) {
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::work tx(**lease);
    auto rows = tx.exec_params(
        R"(UPDATE runs SET state = $2, finished_at = $3::timestamptz, result = $4
            WHERE id = $1 AND state = 'started' AND start_count = $5
        RETURNING 1)",
        run.run.run_id.ToString(), std::string(RunStateName(outcome.state)),
        TimeParam(outcome.finished_at), outcome.result, run.start_count);
    if (rows.empty()) return {};  // started again elsewhere; that start records the outcome
    if (notification)
      tx.exec_params("INSERT INTO outbox (topic, key, payload) VALUES ($1, $2, $3)",
                     notification->topic, notification->key, notification->value);
    tx.commit();
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "finishing run " + run.run.run_id.ToString()));
  }
  return {};
}

}  // namespace conveyor
