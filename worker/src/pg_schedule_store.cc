#include "pg_schedule_store.h"

#include "conveyor/pg_rows.h"
#include "pg_task_states.h"

namespace conveyor {

Result<std::size_t> PgScheduleStore::ClaimDue(Timestamp now, std::size_t limit,
                                              const FireFn& fire) {
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::work tx(**lease);
    // Deleted and disabled tasks have no next due time (the worker clears it). When the changes
    // of a task take turns (TaskStateSettings::serializes_tasks), the claim takes its task's
    // lock too, as a command's transaction does, and leaves a task that one holds for later.
    std::string task_lock = state_.serializes_tasks() ? " FOR NO KEY UPDATE OF t SKIP LOCKED" : "";
    auto rows = ExecPrepared(tx,
                             "SELECT " + TaskColumns("t") + R"(,
               (extract(epoch from s.next_due_at) * 1e6)::bigint
          FROM schedules s JOIN tasks t ON t.id = s.task_id
         WHERE s.next_due_at <= $1::timestamptz
         ORDER BY s.next_due_at
         LIMIT $2
           FOR UPDATE OF s SKIP LOCKED)" +
                                 task_lock,
                             TimeParam(now), static_cast<long long>(limit));
    if (rows.empty()) return std::size_t{0};
    std::vector<DueSchedule> due;
    for (const auto& row : rows)
      due.push_back({TaskFromRow(row), *TimeFromField(row[kTaskColumnCount])});
    auto advances = fire(std::move(due));
    if (!advances) return std::unexpected(advances.error());  // rolled back
    std::vector<Uuid> ids;
    std::vector<std::optional<std::string>> next, last;
    for (const auto& a : *advances) {
      ids.push_back(a.task_id);
      next.push_back(a.next_due ? std::optional(TimeParam(*a.next_due)) : std::nullopt);
      last.push_back(a.last_fired ? std::optional(TimeParam(*a.last_fired)) : std::nullopt);
    }
    ExecPrepared(tx,
                 R"(UPDATE schedules s
              SET next_due_at = v.next_due_at, last_due_at = COALESCE(v.last_due_at, s.last_due_at)
             FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[])
                  AS v(task_id, next_due_at, last_due_at)
            WHERE s.task_id = v.task_id)",
                 UuidArrayParam(ids), TextArrayParam(next), TextArrayParam(last));
    WriteTaskStates(tx, ids, state_, now);
    tx.commit();
    return rows.size();
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "firing due schedules"));
  }
}

Result<std::optional<Timestamp>> PgScheduleStore::EarliestDue() {
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::nontransaction tx(**lease);
    auto rows =
        ExecPrepared(tx,
                     "SELECT (extract(epoch from min(next_due_at)) * 1e6)::bigint FROM schedules "
                     "WHERE next_due_at IS NOT NULL");
    return TimeFromField(rows.at(0)[0]);
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "reading the earliest due time"));
  }
}

}  // namespace conveyor
