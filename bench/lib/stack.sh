# The benchmarks' own stack (sourced by bench/e2e and bench/schedules): PostgreSQL and Kafka
# with fresh data each run, and conveyor-worker (and conveyor-producer) processes, all on
# 127.0.0.1, in a state folder and on ports of their own; everything started is stopped by PID
# on exit, error or Ctrl-C. The sourcing script sets `repo_root` and calls the functions below.
#
# Environment: BENCH_STATE_DIR (default <repo>/.bench), KAFKA_PORT (19392), PG_PORT (15632),
# BENCH_HTTP_PORT (18380), CONVEYOR_BUILD_DIR (default <repo>/build-bench, RelWithDebInfo).

export CONVEYOR_STATE_DIR=${BENCH_STATE_DIR:-$repo_root/.bench}
export KAFKA_PORT=${KAFKA_PORT:-19392}
export PG_PORT=${PG_PORT:-15632}
http_port=${BENCH_HTTP_PORT:-18380}
build_dir=${CONVEYOR_BUILD_DIR:-$repo_root/build-bench}
log_dir=$CONVEYOR_STATE_DIR/logs
kafka_brokers=127.0.0.1:$KAFKA_PORT
pg_url=postgresql://postgres@127.0.0.1:$PG_PORT/conveyor
http_url=http://127.0.0.1:$http_port
group=conveyor-bench-workers
readonly commands_topic=conveyor.commands notifications_topic=conveyor.notifications \
  dlq_topic=conveyor.commands.dlq state_topic=conveyor.tasks journal_topic=conveyor.journal

# What this run started, for the cleanup.
pids=()          # producer and workers, in start order
perf_pids=()
bench_pid=       # conveyor-bench while it runs
started_pg=0
started_kafka=0

say() { echo "bench: $*" >&2; }
die() { echo "bench: error: $*" >&2; exit 1; }
number() { [[ $2 =~ ^[1-9][0-9]*$ ]] || { echo "bench: error: $1 needs a positive number, not '$2'" >&2; exit 2; }; }

stop_pid() {
  local pid=$1 deadline
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + 20))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    say "pid $pid did not stop within 20 s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

# Stops the stack this script started, each process once: workers first (reverse start order),
# then the producer, Kafka and PostgreSQL.
stop_stack() {
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do stop_pid "${pids[i]}"; done
  pids=()
  ((started_kafka)) && { "$repo_root/scripts/kafka/kafka" stop >/dev/null 2>&1 || true; }
  ((started_pg)) && { "$repo_root/scripts/postgres" stop >/dev/null 2>&1 || true; }
  started_kafka=0 started_pg=0
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [ -n "$bench_pid" ] && stop_pid "$bench_pid"
  for pid in "${perf_pids[@]}"; do stop_pid "$pid"; done
  stop_stack
  say "stopped what it started (logs in $log_dir)"
  exit "$rc"
}

# Builds the programs (RelWithDebInfo) when missing or out of date.
build() {
  mkdir -p "$log_dir"
  if [ ! -f "$build_dir/build.ninja" ]; then
    say "configuring $build_dir (RelWithDebInfo)"
    cmake -S "$repo_root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCONVEYOR_BUILD_TESTS=OFF >"$log_dir/build.log" 2>&1 ||
      { tail -30 "$log_dir/build.log" >&2; die "cmake failed (log: $log_dir/build.log)"; }
  fi
  ninja -C "$build_dir" -j2 conveyor-producer conveyor-worker conveyor-bench >>"$log_dir/build.log" 2>&1 ||
    { tail -30 "$log_dir/build.log" >&2; die "build failed (log: $log_dir/build.log)"; }
}

# Starts a program in its own session, its output in $log_dir/$1.log; records its PID.
start() {
  local name=$1
  shift
  setsid "$@" >"$log_dir/$name.log" 2>&1 </dev/null &
  pids+=($!)
  echo $! >"$CONVEYOR_STATE_DIR/$name.pid"
}

# Members of the workers' group that hold partitions, per Kafka's ConsumerGroupCommand.
members_with_partitions() {
  java -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Dlog4j.configuration=file:/dev/null \
    -cp "$repo_root/.cache/kafka/libs/*" org.apache.kafka.tools.consumer.group.ConsumerGroupCommand \
    --bootstrap-server "$kafka_brokers" --describe --group "$group" --members 2>/dev/null |
    awk -v g="$group" '$1 == g && $NF ~ /^[0-9]+$/ && $NF > 0 { n++ } END { print n + 0 }'
}

# A fresh broker and database, so that runs compare; the commands topic with $1 partitions.
start_services() {
  "$repo_root/scripts/kafka/kafka" reset >/dev/null
  "$repo_root/scripts/postgres" reset >/dev/null
  started_pg=1
  "$repo_root/scripts/postgres" start >/dev/null
  started_kafka=1
  "$repo_root/scripts/kafka/kafka" start >/dev/null
  "$repo_root/scripts/kafka/kafka" create-topics "$commands_topic:$1" \
    "$notifications_topic:1" "$dlq_topic:1" "$state_topic:$1:compact" \
    "$journal_topic:$1:forever" >/dev/null
  say "postgres on 127.0.0.1:$PG_PORT, kafka on $kafka_brokers ($commands_topic: $1 partitions)"
}

# Starts $1 workers (worker-1 …) with the flags after it, and waits until min($1, $2
# partitions) of them hold partitions.
start_workers() {
  local workers=$1 partitions=$2 want deadline
  shift 2
  for ((i = 1; i <= workers; i++)); do
    start "worker-$i" "$build_dir/worker/conveyor-worker" --kafka-brokers "$kafka_brokers" \
      --pg-url "$pg_url" --name "worker-$i" --group-id "$group" --dlq-topic "$dlq_topic" \
      --metrics-address 127.0.0.1:0 "$@"
  done
  want=$((workers < partitions ? workers : partitions))
  deadline=$((SECONDS + 90))
  until [ "$(members_with_partitions)" -ge "$want" ]; do
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || die "pid $pid exited (logs in $log_dir)"; done
    ((SECONDS < deadline)) || die "the workers did not all get partitions within 90 s"
    sleep 1
  done
}

# The bytes of the topic's log segments on the broker's disk (its indexes, preallocated, left
# out).
topic_bytes() {
  cat "$CONVEYOR_STATE_DIR"/kafka/data/"$1"-*/*.log 2>/dev/null | wc -c
}

# Each rebuilt table's rows, hashed in key order, but the columns that are only timing.
table_digest() {
  psql -qAt "$1" -c "SELECT count(*) || ' ' || md5(coalesce(string_agg(
      (to_jsonb(x) - 'applied_at' - 'heartbeat_at')::text, ',' ORDER BY $3), '')) FROM $2 x"
}

# After a run with the journal on ($1 tasks in all): waits until the outbox is relayed, stops
# the workers, replays the commands and the journal into a second database and compares it.
measure_rebuild() {
  local total=$1 deadline rebuilt_url started elapsed table key same=1
  deadline=$((SECONDS + 120))
  until [ "$(psql -qAt "$pg_url" -c 'SELECT count(*) FROM outbox WHERE sent_at IS NULL')" = 0 ]; do
    ((SECONDS < deadline)) || die "the outbox was not relayed within 120 s"
    sleep 0.2
  done
  for ((i = ${#pids[@]} - 1; i >= 1; i--)); do stop_pid "${pids[i]}"; done
  pids=("${pids[0]}")
  psql -qAt "$pg_url" -c "DROP DATABASE IF EXISTS conveyor_rebuilt" -c "CREATE DATABASE conveyor_rebuilt" >/dev/null
  rebuilt_url=${pg_url%/*}/conveyor_rebuilt
  say "rebuilding into conveyor_rebuilt"
  local timer=()  # GNU time, when there is one, for the rebuild's peak RSS
  [ -x /usr/bin/time ] && timer=(/usr/bin/time -f 'rebuild: peak RSS %M KiB' -o "$log_dir/rebuild.rss")
  started=$(date +%s.%N)
  "${timer[@]}" "$build_dir/worker/conveyor-worker" --rebuild --kafka-brokers "$kafka_brokers" \
    --pg-url "$rebuilt_url" --journal-topic "$journal_topic" --log-level info \
    2>"$log_dir/rebuild.log" || { tail -20 "$log_dir/rebuild.log" >&2; die "the rebuild failed"; }
  elapsed=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  echo "rebuild: $total tasks in $elapsed s ($(awk -v n="$total" -v s="$elapsed" 'BEGIN { printf "%d", n / s }') tasks/s); $(grep -o 'rebuilt: .*' "$log_dir/rebuild.log")"
  [ -f "$log_dir/rebuild.rss" ] && cat "$log_dir/rebuild.rss"
  echo "rebuild: on disk per task: commands $(($(topic_bytes "$commands_topic") / total)) B, journal $(($(topic_bytes "$journal_topic") / total)) B"
  for table in tasks:id runs:id task_notes:id schedules:task_id inbox:event_id; do
    key=${table#*:} table=${table%%:*}
    if [ "$(table_digest "$pg_url" "$table" "$key")" = "$(table_digest "$rebuilt_url" "$table" "$key")" ]; then
      echo "rebuild: $table equal ($(table_digest "$pg_url" "$table" "$key" | cut -d' ' -f1) rows)"
    else
      echo "rebuild: $table DIFFERS"; same=0
    fi
  done
  ((same)) || die "the rebuilt database differs"
}
