-- The Oracle B2C Service dialect (docs/oracle.md): a task's own name, priority, due and
-- planned completion times and references to the caller's records; integer ids for task
-- types (Oracle's taskType namedID); and the notes of a task.

ALTER TABLE tasks
  ADD COLUMN task_name               text NOT NULL DEFAULT '',
  ADD COLUMN priority                smallint CHECK (priority BETWEEN 1 AND 4),
  ADD COLUMN due_time                timestamptz,
  ADD COLUMN planned_completion_time timestamptz,
  ADD COLUMN external_refs           jsonb NOT NULL DEFAULT '{}';

-- Collection queries filter and sort on these.
CREATE INDEX tasks_task_name ON tasks (task_name);
CREATE INDEX tasks_created_at ON tasks (created_at);

-- Built-in types keep the integer ids of their UUIDs (noop 1, sleep 2); registered types
-- take the next number from 1000 on.
CREATE SEQUENCE task_type_numbers START WITH 1000;
ALTER TABLE task_types ADD COLUMN number bigint UNIQUE;
UPDATE task_types SET number = 1 WHERE id = '00000000-0000-0000-0000-000000000001';
UPDATE task_types SET number = 2 WHERE id = '00000000-0000-0000-0000-000000000002';
UPDATE task_types SET number = nextval('task_type_numbers') WHERE number IS NULL;
ALTER TABLE task_types
  ALTER COLUMN number SET DEFAULT nextval('task_type_numbers'),
  ALTER COLUMN number SET NOT NULL;

-- Notes are written by conveyor.task.note.add command events; their ids come from the
-- producer's task number allocator, like task numbers.
CREATE TABLE task_notes (
  id          bigint PRIMARY KEY,
  task_id     uuid NOT NULL REFERENCES tasks (id),
  text        text NOT NULL,
  created_at  timestamptz NOT NULL,
  created_by  text NOT NULL DEFAULT '',
  event_id    uuid NOT NULL
);
CREATE INDEX task_notes_task ON task_notes (task_id, id);
