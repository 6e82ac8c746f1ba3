ALTER TABLE {db}.transformation_executions DROP COLUMN IF EXISTS event_id;
