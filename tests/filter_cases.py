"""Random filters and documents over a small vocabulary, so that filters often meet the
values they name: for the agreement of ``filter_sql`` with ``filters`` (the SQL and the
Python evaluator of a backtest)."""

from __future__ import annotations

import json
import random
from typing import Any

KEYS = ["a", "b", "type", "ü", "n"]
TEXTS = ["", "x", "xy", "order.created", "Ω", 'q"\\', "tab\tline\n", "1"]
NUMBERS: list[Any] = [0, 1, -1, 2.5, 1.0, 10, 2**53 + 1, -0.0, 10**22, -(10**19), 1e300]
COMPARISONS = ["$eq", "$neq", "$in", "$nin", "$gt", "$gte", "$lt", "$lte"]
SCALARS: list[Any] = [*TEXTS, *NUMBERS, True, False, None]


def value(rng: random.Random, level: int = 0) -> Any:
    """A JSON value: objects and arrays (arrays of arrays too) down to four levels."""
    roll = rng.random()
    if level < 4 and roll < 0.3:
        return {rng.choice(KEYS): value(rng, level + 1) for _ in range(rng.randint(0, 3))}
    if level < 4 and roll < 0.5:
        return [value(rng, level + 1) for _ in range(rng.randint(0, 3))]
    return rng.choice(SCALARS)


def filter_spec(rng: random.Random, level: int = 0) -> Any:
    """A filter of Hookdeck's syntax, valid for ``compile_filter``."""
    roll = rng.random()
    if level >= 3 or roll < 0.2:
        return rng.choice(SCALARS)
    if roll < 0.45:
        return {rng.choice(KEYS): filter_spec(rng, level + 1) for _ in range(rng.randint(0, 2))}
    if roll < 0.5:
        return [filter_spec(rng, level + 1) for _ in range(rng.randint(0, 2))]
    return operator(rng, level)


def operator(rng: random.Random, level: int) -> dict[str, Any]:
    op = rng.choice(
        [*COMPARISONS, "$startsWith", "$endsWith", "$exist", "$and", "$or", "$not", "$ref", "mixed"]
    )
    if op == "$exist":
        return {op: rng.choice([True, False])}
    if op in ("$and", "$or"):
        return {op: [filter_spec(rng, level + 1) for _ in range(rng.randint(1, 3))]}
    if op == "$not":
        return {op: filter_spec(rng, level + 1)}
    if op == "$ref":
        return {op: rng.choice(["a", "a.b", "type", "a[0]"])}
    if op == "mixed":  # an operator beside field names
        return {"$exist": True, rng.choice(KEYS): filter_spec(rng, level + 1)}
    if op in ("$in", "$nin"):
        return {op: in_operand(rng)}
    if op in ("$startsWith", "$endsWith"):
        texts = [rng.choice(TEXTS) for _ in range(rng.randint(1, 2))]
        return {op: texts if rng.random() < 0.5 else texts[0]}
    if op in ("$eq", "$neq") and rng.random() < 0.15:
        return {op: value(rng, 2)}
    return {op: rng.choice(SCALARS)}


def in_operand(rng: random.Random) -> Any:
    """The operand of ``$in``: a list, or a text (substring) or a single value."""
    roll = rng.random()
    if roll < 0.6:
        return [rng.choice(SCALARS) for _ in range(rng.randint(0, 3))]
    return rng.choice(SCALARS)


def body_rule(rng: random.Random) -> dict[str, Any]:
    """A filter rule on the body, sometimes also on the headers or the path."""
    rule: dict[str, Any] = {"type": "filter", "body": filter_spec(rng)}
    if rng.random() < 0.2:
        rule["headers"] = {"x-kind": rng.choice([rng.choice(TEXTS), {"$startsWith": "x"}])}
    if rng.random() < 0.1:
        rule["path"] = rng.choice(["/hooks", {"$startsWith": "/h"}, {"$in": "ook"}])
    return rule


def encoded(rng: random.Random, document: Any) -> bytes:
    """``document`` as a provider may write it: compact, spaced, or with every non-ASCII
    character escaped (integers beyond 64 bits are written by the standard library)."""
    roll = rng.random()
    if roll < 0.4:
        return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
    if roll < 0.7:
        return json.dumps(document, ensure_ascii=False).encode()
    return json.dumps(document).encode()
