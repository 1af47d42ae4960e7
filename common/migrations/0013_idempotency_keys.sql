-- Idempotent creates (README "Idempotent creates"): the Idempotency-Key a caller sent with a
-- create, the fingerprint of that request, and the answer it got. The same key and request
-- replay the answer; a request that did not get one (a 5xx, or a producer that died while
-- answering it) runs again under the same key_id, which names the same tasks and commands, so
-- a create that reached Kafka after all is not made twice. Rows live 24 hours.
CREATE TABLE idempotency_keys (
  caller       text NOT NULL,          -- Caller::Identity(): keys are each caller's own
  key          text NOT NULL,
  fingerprint  text NOT NULL,          -- SHA-256 of method, path, query, Content-Type, body
  key_id       uuid NOT NULL,          -- the name space of the tasks' and commands' ids
  state        text NOT NULL CHECK (state IN ('running', 'done', 'failed')),
  status       int,
  content_type text,
  body         text,
  headers      jsonb,
  created_at   timestamptz NOT NULL DEFAULT now(),
  claimed_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (caller, key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (created_at);

-- The number of a task whose id an Idempotency-Key named: the same on every attempt.
CREATE TABLE idempotent_task_numbers (
  task_id    uuid PRIMARY KEY,
  number     bigint NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idempotent_task_numbers_age ON idempotent_task_numbers (created_at);
