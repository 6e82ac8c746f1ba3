-- The event a transformation run's output became ('' when the connection made none:
-- the run failed, or a later rule ignored the request), so an execution can name the
-- data it transformed into (Hookdeck's transformed_event_data_id).
ALTER TABLE {db}.transformation_executions ADD COLUMN IF NOT EXISTS event_id String DEFAULT '';
