"""hookhouse: a webhook gateway on Kafka and ClickHouse."""

__version__ = "0.1.0"
