-- The journal (docs/integrations.md, "Rebuild by replay"): what the workers decided that no
-- command says. Each run as it is after every change to it (but a heartbeat alone), a
-- scheduled task's due times as the schedulers advance them, and a task that retention
-- removed, written to the outbox in the transaction of the change. `conveyor-worker --rebuild`
-- replays the journal beside the commands topic.
--
-- Only sessions that name the journal's topic write it: workers started with --journal-topic
-- set conveyor.journal_topic on their connections. A trigger, rather than a statement in each
-- place that changes a run, so that no change of a run can be left out.

-- Set: `payload` is the data of an event of this type, which the relay wraps in its CloudEvents
-- envelope (PgOutboxStore::ClaimUnsent). NULL: `payload` is the message as it is published.
ALTER TABLE outbox ADD COLUMN event_type text;

-- Each record carries the offset of the last command applied to its task when it was written
-- (tasks.command_offset): the replay applies it after that command and before the next one.
CREATE FUNCTION journal_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  topic text := current_setting('conveyor.journal_topic', true);
  task uuid;
  kind text;
  data jsonb;
BEGIN
  IF coalesce(topic, '') = '' THEN
    RETURN NULL;
  END IF;
  IF TG_TABLE_NAME = 'tasks' THEN
    task := OLD.id;
    kind := 'conveyor.task.purged';
    data := jsonb_build_object('task_id', OLD.id, 'command_offset', OLD.command_offset);
  ELSE
    IF TG_OP = 'UPDATE' AND to_jsonb(NEW) - 'heartbeat_at' = to_jsonb(OLD) - 'heartbeat_at' THEN
      RETURN NULL;
    END IF;
    task := NEW.task_id;
    kind := CASE TG_TABLE_NAME WHEN 'runs' THEN 'conveyor.run.recorded'
                               ELSE 'conveyor.schedule.recorded' END;
    data := jsonb_build_object(
      'row', to_jsonb(NEW) - 'heartbeat_at',
      'command_offset', (SELECT command_offset FROM tasks WHERE id = task));
  END IF;
  INSERT INTO outbox (topic, key, payload, event_type)
    VALUES (topic, task::text, data::text, kind);
  RETURN NULL;
END $$;

CREATE TRIGGER runs_journal AFTER INSERT OR UPDATE ON runs
  FOR EACH ROW EXECUTE FUNCTION journal_change();
CREATE TRIGGER schedules_journal AFTER INSERT OR UPDATE ON schedules
  FOR EACH ROW EXECUTE FUNCTION journal_change();
-- A task row is deleted only by retention (a DELETE command marks it deleted_at).
CREATE TRIGGER tasks_journal AFTER DELETE ON tasks
  FOR EACH ROW EXECUTE FUNCTION journal_change();
