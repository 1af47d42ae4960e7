#!/usr/bin/python3
"""An integration's own copy of Conveyor's tasks, kept from the compacted topic conveyor.tasks.

It reads the topic from the beginning and keeps, in an SQLite database of its own, the latest
state of every task: a tombstone (a message with a null value) deletes the task. It commits
its Kafka offsets only after SQLite has the messages, so a restart goes on where it stopped and
a message seen twice changes nothing. docs/integrations.md explains the topic.

  conveyor_tasks_copy.py sync --brokers HOST:PORT --topic conveyor.tasks --store tasks.db
      keep the copy in sync until SIGTERM or SIGINT
  conveyor_tasks_copy.py dump --store tasks.db
      print the copy, one JSON object per task: {"id", "time", "state"} (state: the event's data)

Needs only Debian's python3-confluent-kafka (the Kafka client) and Python's own sqlite3.
"""
import argparse
import json
import signal
import sqlite3
import sys

SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
  id    TEXT PRIMARY KEY,  -- the Kafka key: the task id
  time  TEXT NOT NULL,     -- the event's time (RFC 3339, UTC)
  state TEXT NOT NULL      -- the event's data, as JSON
)"""


def open_store(path):
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute(SCHEMA)
    return db


def apply(db, key, value):
    """One message into the copy: a tombstone deletes the task, a state replaces it.

    A task's messages share a partition, which Kafka reads in order: the last one applied is
    the latest, also when a restart reads some of them again."""
    if value is None:
        db.execute("DELETE FROM tasks WHERE id = ?", (key,))
        return
    event = json.loads(value)
    db.execute("INSERT OR REPLACE INTO tasks (id, time, state) VALUES (?, ?, ?)",
               (key, event["time"], json.dumps(event["data"], sort_keys=True)))


def sync(args):
    from confluent_kafka import Consumer, KafkaException

    db = open_store(args.store)
    consumer = Consumer({
        "bootstrap.servers": args.brokers,
        "group.id": args.group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
    })
    consumer.subscribe([args.topic])
    stopping = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.append(True))
    print(f"syncing {args.topic} from {args.brokers} into {args.store}", flush=True)
    try:
        while not stopping:
            messages = consumer.consume(num_messages=500, timeout=0.5)
            if not messages:
                continue
            for m in messages:
                if m.error():
                    raise KafkaException(m.error())
                apply(db, m.key().decode(), m.value())
            db.commit()  # the copy first, then the offsets: at least once
            consumer.commit(asynchronous=False)
    finally:
        consumer.close()
        db.close()
    return 0


def dump(args):
    db = open_store(args.store)
    for task_id, time, state in db.execute("SELECT id, time, state FROM tasks ORDER BY id"):
        print(json.dumps({"id": task_id, "time": time, "state": json.loads(state)}))
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    s = commands.add_parser("sync", help="keep the copy in sync until SIGTERM")
    s.add_argument("--brokers", required=True)
    s.add_argument("--topic", default="conveyor.tasks")
    s.add_argument("--group", default="conveyor-tasks-copy",
                   help="the consumer group, whose committed offsets say where to go on")
    s.add_argument("--store", required=True, help="the SQLite file of the copy")
    d = commands.add_parser("dump", help="print the copy, one JSON object per task")
    d.add_argument("--store", required=True)
    args = parser.parse_args()
    return sync(args) if args.command == "sync" else dump(args)


if __name__ == "__main__":
    sys.exit(main())
