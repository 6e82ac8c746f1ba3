"""Hookdeck's filter syntax, compiled once into a predicate; pure.

A filter is JSON.  A literal (string, number, boolean, null) matches an equal value; an
object matches when each of its keys matches the same key of the data (nested); an
array in the filter matches an array that contains a match for every one of its
items.  Where the data holds an array and the filter does not, the filter matches when
any element matches ("array contains").  Keys starting with ``$`` are operators:

- ``$eq``/``$neq``: equal / not equal (deep, no "contains" for arrays);
- ``$in``/``$nin``: the value is one of a list, or a string/array contains it;
- ``$gt``/``$gte``/``$lt``/``$lte``: order between two numbers or two strings
  (ISO 8601 times compare as strings);
- ``$startsWith``/``$endsWith``: string prefix / suffix (a list: any of them);
- ``$exist``: the key is present (true) or absent (false);
- ``$and``/``$or``: every / any filter of a list, against the same value;
  operators may sit beside field names, and then both must match;
- ``$not``: the filter does not match;
- ``$ref``: in place of a literal, the value at a path of the whole document
  (``a.b.0.c`` or ``a.b[0].c``).

An absent key matches nothing but ``$exist: false`` and the negations (``$neq``,
``$nin``, ``$not``), so ``{"$not": {"$in": x}}`` and ``{"$nin": x}`` always agree.

Matching is total: it answers true or false for any JSON document, never raises.  A
filter nests at most :data:`MAX_DEPTH` objects and lists (deeper ones are refused when
compiled), so a predicate recurses at most that deep; the document's side (arrays in
arrays, deep equality) is walked with explicit stacks, so a body of any depth is only
data, not Python stack frames.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Predicate = Callable[[Any, Any], bool]  # (value, whole document) -> matches
MISSING: Any = object()

COMPARE_OPS = ("$gt", "$gte", "$lt", "$lte")
OPERATORS = frozenset(
    {
        "$eq",
        "$neq",
        "$in",
        "$nin",
        *COMPARE_OPS,
        "$startsWith",
        "$endsWith",
        "$exist",
        "$and",
        "$or",
        "$not",
        "$ref",
    }
)
_INDEX = re.compile(r"\[(\d+)\]")
# Objects and lists a filter may nest.  Not a setting: evaluation recurses a few Python
# frames per level, and this keeps a predicate far inside the interpreter's 1,000.
MAX_DEPTH = 32


class InvalidFilter(ValueError):
    """The filter is not valid Hookdeck filter syntax; the message says where."""


def compile_filter(spec: Any) -> Callable[[Any], bool]:
    """A predicate over one document (a parsed body, the headers, the query, the path)."""
    if depth(spec) > MAX_DEPTH:
        raise InvalidFilter(f"filter: nests objects and lists deeper than {MAX_DEPTH} levels")
    predicate = _compile(spec, "filter")
    return lambda document: predicate(document, document)


def depth(value: Any, past: int = MAX_DEPTH) -> int:
    """How many objects and lists ``value`` nests (a literal: 0), counted without
    recursion and only up to one more than ``past``."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack and deepest <= past:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, level + 1) for child in children)
    return deepest


def resolve(document: Any, path: str) -> Any:
    """The value at ``path`` (dots and ``[n]``) in ``document``, or MISSING."""
    value = document
    for part in _INDEX.sub(r".\1", path).split("."):
        if part == "":
            continue
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif (
            isinstance(value, list) and part.isascii() and part.isdigit() and int(part) < len(value)
        ):
            value = value[int(part)]
        else:
            return MISSING
    return value


def _is_index(part: str) -> bool:
    """ASCII digits only: ``"²".isdigit()`` holds, and ``int("²")`` raises."""
    return part.isascii() and part.isdigit()


def _operand(spec: Any, where: str) -> Callable[[Any], Any]:
    """A literal, or a ``{"$ref": path}`` read from the document at match time."""
    if isinstance(spec, dict) and set(spec) == {"$ref"}:
        path = spec["$ref"]
        if not isinstance(path, str):
            raise InvalidFilter(f"{where}: $ref takes a path string")
        return lambda document: resolve(document, path)
    return lambda _document: spec


def _compile(spec: Any, where: str) -> Predicate:
    if isinstance(spec, dict):
        operators = {key: sub for key, sub in spec.items() if key.startswith("$")}
        if operators:
            rest = {key: sub for key, sub in spec.items() if not key.startswith("$")}
            checks = [_compile_operators(operators, where)]
            if rest:
                checks.append(_compile(rest, where))
            return _every(checks)
        fields = [(key, _compile(sub, f"{where}.{key}")) for key, sub in spec.items()]

        def match_object(value: Any, document: Any) -> bool:
            """The object, or any object in its arrays (arrays of arrays too)."""
            pending = [value]
            while pending:
                item = pending.pop()
                if isinstance(item, list):
                    pending.extend(reversed(item))
                elif isinstance(item, dict) and all(
                    predicate(item.get(key, MISSING), document) for key, predicate in fields
                ):
                    return True
            return False

        return match_object
    if isinstance(spec, list):
        items = [_compile(sub, f"{where}[{n}]") for n, sub in enumerate(spec)]

        def match_all(value: Any, document: Any) -> bool:
            if not isinstance(value, list):
                return False
            return all(any(item(element, document) for element in value) for item in items)

        return match_all
    return lambda value, _document: _contains_equal(value, spec)


def _compile_operators(spec: dict[str, Any], where: str) -> Predicate:
    unknown = [key for key in spec if key not in OPERATORS]
    if unknown:
        raise InvalidFilter(
            f"{where}: unknown operator {unknown[0]!r} (known: {', '.join(sorted(OPERATORS))})"
        )
    return _every([_operator(op, arg, f"{where}.{op}") for op, arg in spec.items()])


def _every(checks: list[Predicate]) -> Predicate:
    """All of ``checks`` (the one itself when there is one: most filters)."""
    if len(checks) == 1:
        return checks[0]

    return lambda value, document: all(check(value, document) for check in checks)


def _operator(op: str, arg: Any, where: str) -> Predicate:
    if op == "$ref":
        ref = _operand({"$ref": arg}, where)
        return lambda value, document: (
            value is not MISSING and _contains_equal(value, ref(document))
        )
    if op == "$exist":
        if not isinstance(arg, bool):
            raise InvalidFilter(f"{where}: takes true or false")
        return lambda value, _document: (value is not MISSING) is arg
    if op in ("$and", "$or"):
        if not isinstance(arg, list) or not arg:
            raise InvalidFilter(f"{where}: takes a non-empty list of filters")
        parts = [_compile(sub, f"{where}[{n}]") for n, sub in enumerate(arg)]
        combine = all if op == "$and" else any
        return lambda value, document: combine(part(value, document) for part in parts)
    if op == "$not":
        inner = _compile(arg, where)
        return lambda value, document: not inner(value, document)
    operand = _operand(arg, where)
    if op in ("$eq", "$neq"):
        negate = op == "$neq"
        return lambda value, document: (
            (value is not MISSING and _same(value, operand(document))) is not negate
        )
    if op in ("$in", "$nin"):
        negate = op == "$nin"
        return lambda value, document: _is_in(value, operand(document)) is not negate
    if op in COMPARE_OPS:
        return _comparison(op, operand)
    # $startsWith / $endsWith
    if not isinstance(arg, str | list) and not (isinstance(arg, dict) and "$ref" in arg):
        raise InvalidFilter(f"{where}: takes a string or a list of strings")
    starts = op == "$startsWith"

    def affix(value: Any, document: Any) -> bool:
        wanted = operand(document)
        options = wanted if isinstance(wanted, list) else [wanted]
        if not isinstance(value, str):
            return False
        return any(
            isinstance(o, str) and (value.startswith(o) if starts else value.endswith(o))
            for o in options
        )

    return affix


def _comparison(op: str, operand: Callable[[Any], Any]) -> Predicate:
    def compare(value: Any, document: Any) -> bool:
        other = operand(document)
        numbers = _is_number(value) and _is_number(other)
        if not numbers and not (isinstance(value, str) and isinstance(other, str)):
            return False
        if op == "$gt":
            return bool(value > other)
        if op == "$gte":
            return bool(value >= other)
        if op == "$lt":
            return bool(value < other)
        return bool(value <= other)

    return compare


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same(a: Any, b: Any) -> bool:
    """JSON equality, deep (at any depth: pairs wait on a stack): ``true`` is not ``1``."""
    pairs = [(a, b)]
    while pairs:
        x, y = pairs.pop()
        if x is y:
            continue
        if isinstance(x, dict) and isinstance(y, dict):
            if x.keys() != y.keys():
                return False
            pairs.extend((x[k], y[k]) for k in x)
        elif isinstance(x, list) and isinstance(y, list):
            if len(x) != len(y):
                return False
            pairs.extend(zip(x, y, strict=True))
        elif isinstance(x, bool) or isinstance(y, bool):
            if type(x) is not type(y) or x != y:
                return False
        elif isinstance(x, dict | list) or isinstance(y, dict | list) or x != y:
            return False
    return True


def _contains_equal(value: Any, literal: Any) -> bool:
    if value is MISSING:
        return False
    if isinstance(value, list) and not isinstance(literal, list):
        return any(_same(item, literal) for item in value)
    return _same(value, literal)


def _is_in(value: Any, options: Any) -> bool:
    if value is MISSING:
        return False
    if isinstance(options, list):
        if isinstance(value, list):
            return any(_same(item, option) for item in value for option in options)
        return any(_same(value, option) for option in options)
    if isinstance(value, str) and isinstance(options, str):
        return options in value
    if isinstance(value, list):
        return any(_same(item, options) for item in value)
    return False
