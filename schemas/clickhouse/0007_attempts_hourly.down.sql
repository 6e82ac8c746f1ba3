DROP VIEW IF EXISTS {db}.attempts_hourly_view;
DROP TABLE IF EXISTS {db}.attempts_hourly;
