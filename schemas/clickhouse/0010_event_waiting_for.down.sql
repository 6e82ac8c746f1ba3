ALTER TABLE {db}.events DROP COLUMN IF EXISTS waiting_for;
