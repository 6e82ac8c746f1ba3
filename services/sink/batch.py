"""Grouping records into per-table insert blocks; pure, no I/O.

A record's Kafka header ``kind`` names its table and its value is the row as one JSON
object, so a block is the values joined by newlines (ClickHouse's JSONEachRow).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from hookhouse.common.domain.records import ROW_KINDS

TABLES = {kind: f"{kind}s" for kind in ROW_KINDS}  # request -> requests, ...


class InvalidRecord(Exception):
    pass


def table_of(kind: bytes | None, value: bytes | None) -> str:
    """The table a record belongs to; raises :class:`InvalidRecord` for unusable ones."""
    table = TABLES.get((kind or b"").decode(errors="replace"))
    if table is None:
        raise InvalidRecord(f"unknown record kind {kind!r}")
    if not value:
        raise InvalidRecord("empty record")
    if value.startswith(b'{"id":"'):  # how the services write rows: a string id first
        return table  # a row broken further on is refused by ClickHouse, then isolated
    try:
        row = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise InvalidRecord(f"not JSON: {exc}") from exc
    if not isinstance(row, dict) or not isinstance(row.get("id"), str):
        raise InvalidRecord("a row must be a JSON object with a string id")
    return table


@dataclass
class Block:
    """Rows for one table, with the indexes of the records they came from."""

    table: str
    values: list[bytes] = field(default_factory=list)
    sources: list[int] = field(default_factory=list)

    def body(self) -> bytes:
        return b"\n".join(self.values)

    def halves(self) -> tuple[Block, Block]:
        middle = len(self.values) // 2
        return (
            Block(self.table, self.values[:middle], self.sources[:middle]),
            Block(self.table, self.values[middle:], self.sources[middle:]),
        )


@dataclass
class Batch:
    """Records read and not inserted yet, grouped into one block per table as they
    arrive, so that grouping a batch overlaps the insert of the one before."""

    messages: list[Any] = field(default_factory=list)
    blocks: dict[str, Block] = field(default_factory=dict)

    def add(self, message: Any, kind: bytes | None, value: bytes | None) -> None:
        """Add a record; raises :class:`InvalidRecord` for an unusable one, which stays
        among the messages (done once its dead letter is acknowledged)."""
        index = len(self.messages)
        self.messages.append(message)
        table = table_of(kind, value)
        block = self.blocks.get(table)
        if block is None:
            block = self.blocks[table] = Block(table)
        block.values.append(value or b"")
        block.sources.append(index)

    def __len__(self) -> int:
        return len(self.messages)
