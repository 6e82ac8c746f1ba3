DROP TABLE IF EXISTS {db}.event_payloads;
