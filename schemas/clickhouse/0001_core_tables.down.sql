DROP TABLE IF EXISTS {db}.attempts;
DROP TABLE IF EXISTS {db}.events;
DROP TABLE IF EXISTS {db}.requests;
