-- Conveyor schema, version 1: the task projection, runs, the inbox (append-only log of every
-- applied command event) and the outbox of notification events.

CREATE TABLE task_types (
  id          uuid PRIMARY KEY,
  name        text NOT NULL UNIQUE,
  handler     text NOT NULL,
  builtin     boolean NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now()
);

INSERT INTO task_types (id, name, handler, builtin)
VALUES ('00000000-0000-0000-0000-000000000001', 'noop', 'noop', true);

-- Integer ids (Oracle and SuperOffice use integers) are handed out by the producer in blocks:
-- one nextval() reserves the 1,000 numbers that start at its value.
CREATE SEQUENCE task_number_blocks START WITH 1000 INCREMENT BY 1000;

CREATE TABLE tasks (
  id            uuid PRIMARY KEY,
  number        bigint NOT NULL UNIQUE,
  task_type_id  uuid NOT NULL REFERENCES task_types (id),
  client_id     uuid,
  enabled       boolean NOT NULL,
  frequency     text NOT NULL,
  start_date    timestamptz,
  finish_date   timestamptz,
  parameters    text NOT NULL,
  content_type  text NOT NULL,
  notification  text NOT NULL,
  created_at    timestamptz NOT NULL,
  created_by    text NOT NULL DEFAULT '',
  modified_at   timestamptz NOT NULL,
  modified_by   text NOT NULL DEFAULT '',
  last_event_id uuid NOT NULL
);

CREATE TABLE runs (
  id                   uuid PRIMARY KEY,
  task_id              uuid NOT NULL REFERENCES tasks (id),
  state                text NOT NULL CHECK (state IN ('queued', 'acquired', 'started',
                           'retry_wait', 'succeeded', 'failed', 'cancelled')),
  start_count          integer NOT NULL DEFAULT 0,
  queued_at            timestamptz NOT NULL,
  started_at           timestamptz,
  finished_at          timestamptz,
  result               text NOT NULL DEFAULT '',
  worker               text NOT NULL DEFAULT '',
  progress_percent     smallint NOT NULL DEFAULT 0,
  progress_description text NOT NULL DEFAULT ''
);
CREATE INDEX runs_task ON runs (task_id, queued_at DESC);

-- One row per applied command event, written in the same transaction as its effects:
-- a redelivered event finds its row and changes nothing. The rows also form the event log
-- from which the projection can be rebuilt.
CREATE TABLE inbox (
  event_id        uuid PRIMARY KEY,
  type            text NOT NULL,
  subject         text NOT NULL,
  source          text NOT NULL,
  event_time      timestamptz NOT NULL,
  payload         jsonb NOT NULL,
  kafka_topic     text NOT NULL,
  kafka_partition integer NOT NULL,
  kafka_offset    bigint NOT NULL,
  applied_at      timestamptz NOT NULL DEFAULT now()
);

-- Notification events waiting for the relay; written in the transaction that records the
-- run's outcome, so none is lost when a process dies before publishing.
CREATE TABLE outbox (
  id          bigserial PRIMARY KEY,
  topic       text NOT NULL,
  key         text NOT NULL,
  payload     text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  sent_at     timestamptz
);
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
