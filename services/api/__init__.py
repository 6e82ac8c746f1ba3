"""API: Hookdeck-shaped management and query API over the config log and ClickHouse."""
