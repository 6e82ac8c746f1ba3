"""Sink: batches the ``records`` topic into ClickHouse, committing only after inserts."""
