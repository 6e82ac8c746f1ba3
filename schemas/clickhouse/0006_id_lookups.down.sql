ALTER TABLE {db}.requests DROP INDEX IF EXISTS requests_id;
ALTER TABLE {db}.events DROP INDEX IF EXISTS events_id;
ALTER TABLE {db}.events DROP INDEX IF EXISTS events_request_id;
ALTER TABLE {db}.attempts DROP INDEX IF EXISTS attempts_id;
ALTER TABLE {db}.attempts DROP INDEX IF EXISTS attempts_event_id;
ALTER TABLE {db}.ignored_events DROP INDEX IF EXISTS ignored_events_request_id;
ALTER TABLE {db}.event_payloads DROP INDEX IF EXISTS event_payloads_id;
