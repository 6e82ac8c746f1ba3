-- Lookups by id and by parent id (an event by id, a request's events, an event's
-- attempts) do not follow the tables' order (project, time, id): a bloom filter per
-- granule lets them skip what cannot hold the id instead of reading the whole project.
ALTER TABLE {db}.requests ADD INDEX IF NOT EXISTS requests_id id TYPE bloom_filter(0.01) GRANULARITY 1;
ALTER TABLE {db}.events ADD INDEX IF NOT EXISTS events_id id TYPE bloom_filter(0.01) GRANULARITY 1;
ALTER TABLE {db}.events ADD INDEX IF NOT EXISTS events_request_id request_id TYPE bloom_filter(0.01) GRANULARITY 1;
ALTER TABLE {db}.attempts ADD INDEX IF NOT EXISTS attempts_id id TYPE bloom_filter(0.01) GRANULARITY 1;
ALTER TABLE {db}.attempts ADD INDEX IF NOT EXISTS attempts_event_id event_id TYPE bloom_filter(0.01) GRANULARITY 1;
ALTER TABLE {db}.ignored_events ADD INDEX IF NOT EXISTS ignored_events_request_id request_id TYPE bloom_filter(0.01) GRANULARITY 1;
ALTER TABLE {db}.event_payloads ADD INDEX IF NOT EXISTS event_payloads_id id TYPE bloom_filter(0.01) GRANULARITY 1;
ALTER TABLE {db}.requests MATERIALIZE INDEX requests_id;
ALTER TABLE {db}.events MATERIALIZE INDEX events_id;
ALTER TABLE {db}.events MATERIALIZE INDEX events_request_id;
ALTER TABLE {db}.attempts MATERIALIZE INDEX attempts_id;
ALTER TABLE {db}.attempts MATERIALIZE INDEX attempts_event_id;
ALTER TABLE {db}.ignored_events MATERIALIZE INDEX ignored_events_request_id;
ALTER TABLE {db}.event_payloads MATERIALIZE INDEX event_payloads_id;
