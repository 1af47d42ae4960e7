#include "commands/pg_catalog.h"

namespace conveyor {

namespace {

constexpr char kTypeColumns[] =
    "id, name, handler, timeout_seconds, max_attempts, retry_backoff_ms, cancellation, builtin, "
    "number, array_to_string(clients, ',')";

TaskType TypeFromRow(const pqxx::row& r) {
  TaskType t;
  t.id = Uuid::Parse(r[0].c_str()).value_or(Uuid());
  t.name = r[1].c_str();
  t.handler = r[2].c_str();
  if (!r[3].is_null()) t.timeout_seconds = r[3].as<int>();
  t.max_attempts = r[4].as<int>();
  t.retry_backoff_ms = r[5].as<int>();
  t.cancellation = r[6].c_str();
  t.builtin = r[7].as<bool>();
  t.number = r[8].as<std::int64_t>();
  std::string_view clients = r[9].is_null() ? std::string_view() : r[9].c_str();
  while (!clients.empty()) {
    auto comma = clients.find(',');
    if (auto id = Uuid::Parse(clients.substr(0, comma))) t.clients.push_back(*id);
    clients = comma == std::string_view::npos ? std::string_view() : clients.substr(comma + 1);
  }
  return t;
}

// PostgreSQL's text form of a uuid[].
std::string UuidList(const std::vector<Uuid>& ids) {
  std::string out = "{";
  for (const auto& id : ids) out += (out.size() > 1 ? "," : "") + id.ToString();
  return out + "}";
}

}  // namespace

Result<TaskType> PgTaskTypeCatalog::Register(TaskType type) {
  type.id = Uuid::Random();
  type.builtin = false;
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::work tx(**lease);
    auto rows = tx.exec_params(
        R"(INSERT INTO task_types (id, name, handler, timeout_seconds, max_attempts,
                                   retry_backoff_ms, cancellation, clients)
           VALUES ($1, $2, $3, $4, $5, $6, $7, NULLIF($8::uuid[], '{}'))
           ON CONFLICT (name) DO NOTHING RETURNING number)",
        type.id.ToString(), type.name, type.handler, type.timeout_seconds, type.max_attempts,
        type.retry_backoff_ms, type.cancellation, UuidList(type.clients));
    if (rows.empty())
      return Fail(ErrorCode::kAlreadyExists, "a task type named '" + type.name + "' exists",
                  "Name");
    type.number = rows[0][0].as<std::int64_t>();
    tx.commit();
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "registering task type " + type.name));
  }
  return type;
}

Result<std::vector<TaskType>> PgTaskTypeCatalog::List() {
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  std::vector<TaskType> out;
  try {
    pqxx::read_transaction tx(**lease);
    for (const auto& r : tx.exec("SELECT " + std::string(kTypeColumns) +
                                 " FROM task_types ORDER BY builtin DESC, name"))
      out.push_back(TypeFromRow(r));
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "listing task types"));
  }
  return out;
}

Result<std::optional<TaskType>> PgTaskTypeCatalog::Find(const Uuid& id) {
  {
    std::lock_guard lock(mutex_);
    if (auto it = known_.find(id); it != known_.end()) return std::optional<TaskType>(it->second);
  }
  // Lookups of types not cached yet go one at a time: a burst of requests naming a type the
  // cache has not seen would otherwise open one PostgreSQL connection per HTTP thread. The
  // first one caches the type for the others.
  std::lock_guard lookup(lookup_mutex_);
  {
    std::lock_guard lock(mutex_);
    if (auto it = known_.find(id); it != known_.end()) return std::optional<TaskType>(it->second);
  }
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::read_transaction tx(**lease);
    auto rows = tx.exec_params(
        "SELECT " + std::string(kTypeColumns) + " FROM task_types WHERE id = $1", id.ToString());
    if (rows.empty()) return std::optional<TaskType>();
    TaskType type = TypeFromRow(rows[0]);
    std::lock_guard lock(mutex_);
    known_.emplace(id, type);
    return std::optional<TaskType>(type);
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "reading task type " + id.ToString()));
  }
}

Result<std::int64_t> PgTaskNumberAllocator::Next() {
  std::lock_guard lock(mutex_);
  if (next_ >= end_) {
    auto lease = pool_.Acquire();
    if (!lease) return std::unexpected(lease.error());
    try {
      pqxx::nontransaction tx(**lease);
      auto start = tx.exec1("SELECT nextval('task_number_blocks')")[0].as<std::int64_t>();
      next_ = start;
      end_ = start + kBlockSize;
    } catch (const std::exception& e) {
      return std::unexpected(PgError(e, "allocating task numbers"));
    }
  }
  return next_++;
}

Result<std::int64_t> PgTaskNumberAllocator::NumberFor(const Uuid& task_id) {
  auto fresh = Next();
  if (!fresh) return fresh;
  auto lease = pool_.Acquire();
  if (!lease) return std::unexpected(lease.error());
  try {
    pqxx::nontransaction tx(**lease);
    // The first attempt's number wins; a later one's fresh number is a gap, as a refused
    // create's is.
    return ExecPrepared(tx,
                        R"(INSERT INTO idempotent_task_numbers (task_id, number) VALUES ($1, $2)
                           ON CONFLICT (task_id) DO UPDATE SET task_id = EXCLUDED.task_id
                           RETURNING number)",
                        task_id.ToString(), *fresh)
        .at(0)[0]
        .as<std::int64_t>();
  } catch (const std::exception& e) {
    return std::unexpected(PgError(e, "numbering task " + task_id.ToString()));
  }
}

}  // namespace conveyor
