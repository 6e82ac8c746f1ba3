"""The local stack: a real Kafka broker and an embedded ClickHouse server, plus every service."""
