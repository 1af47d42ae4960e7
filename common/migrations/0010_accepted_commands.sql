-- Read your own writes (docs/adr/0006-read-your-writes.md). A producer answers once Kafka
-- acknowledged a command, but the tasks table shows it only once a worker applied it; under
-- a backlog that is seconds later. So the producer also records, before it answers, the task
-- as the command leaves it, in accepted_tasks, and every read sees current_tasks: the newer
-- of the two by the command's Kafka offset. The commands of one task share a partition
-- (their key is the task id), so their offsets order them as the workers apply them.

-- The offset of the latest command whose effect the row holds (-1: written before 0010).
ALTER TABLE tasks ADD COLUMN command_offset bigint NOT NULL DEFAULT -1;

-- The task as the latest acknowledged command leaves it, until a worker applied that command
-- (it deletes the row in the transaction that applies it). The same columns as tasks, so
-- that current_tasks can put them together; a later migration that adds a column to tasks
-- adds it here too and recreates current_tasks (a test compares the three).
CREATE TABLE accepted_tasks (LIKE tasks INCLUDING DEFAULTS);
ALTER TABLE accepted_tasks ADD PRIMARY KEY (id);
CREATE INDEX accepted_tasks_number ON accepted_tasks (number);
CREATE INDEX accepted_tasks_live_in_creation_order ON accepted_tasks (created_at, number)
  WHERE deleted_at IS NULL;
CREATE INDEX accepted_tasks_live_by_client ON accepted_tasks (client_id, created_at, number)
  WHERE deleted_at IS NULL;

-- What every read of a task sees: the projection's row, unless a command it does not hold yet
-- was accepted, and then the task as that command leaves it (a task whose create no worker
-- applied yet comes from accepted_tasks alone).
CREATE VIEW current_tasks AS
  SELECT t.* FROM tasks t
   WHERE NOT EXISTS (SELECT 1 FROM accepted_tasks a
                      WHERE a.id = t.id AND a.command_offset > t.command_offset)
  UNION ALL
  SELECT a.* FROM accepted_tasks a
   WHERE NOT EXISTS (SELECT 1 FROM tasks t
                      WHERE t.id = a.id AND t.command_offset >= a.command_offset);

-- Notes (Oracle tasks/{id}/notes) accepted and not yet applied; no foreign key, since their
-- task may not be in tasks yet.
CREATE TABLE accepted_notes (LIKE task_notes INCLUDING DEFAULTS);
ALTER TABLE accepted_notes ADD PRIMARY KEY (id);
CREATE INDEX accepted_notes_task ON accepted_notes (task_id, id);
