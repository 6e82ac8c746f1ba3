ALTER TABLE {db}.requests DROP COLUMN IF EXISTS ignored_count;
DROP TABLE IF EXISTS {db}.ignored_events;
