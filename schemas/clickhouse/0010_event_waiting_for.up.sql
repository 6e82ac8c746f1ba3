-- Ordered delivery: the event of the same ordering key that an event waits for (its
-- status is then HOLD); empty when it waits for nothing.  Rows the attempts' view
-- writes leave it empty: an attempted event no longer waits.
ALTER TABLE {db}.events ADD COLUMN IF NOT EXISTS waiting_for String DEFAULT '';
