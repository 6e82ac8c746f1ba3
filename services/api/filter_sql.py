"""A connection's filter as a ClickHouse expression over stored requests (backtests).

The expression answers, per stored request, what ``routing.passes`` would answer for a
filter rule, in three values: :data:`NO`, :data:`YES`, or :data:`UNDECIDED` where SQL
cannot say it exactly and the caller evaluates that request in Python.  The three values
are ordered so that Kleene's logic is plain arithmetic: *and* is ``least``, *or* is
``greatest``, *not* is ``2 - x``; "any element of an array" is the greatest over it.

A value of the document is carried as its raw JSON text (``''`` when the key is absent),
and each step into an object or array is a ``JSONExtract…`` of that text, so the
semantics of ``filters.py`` hold step by step: an object filter also matches the objects
inside arrays (two levels of arrays here; deeper ones are undecided), a literal matches
an equal element of an array, ``$in`` on two strings is a substring, numbers compare as
numbers and booleans are not numbers.

Undecided, and left to Python:

- a body that ClickHouse does not read as JSON but that may be JSON to Python (deeper
  than ClickHouse's 1,024 levels, a lone surrogate), or text that is not UTF-8;
- an object with a key twice (ClickHouse reads the first, Python the last);
- a number beyond 2**53, where a float is no longer exact;
- equality with an object or array, ``$ref`` (a value read from the document itself),
  a non-empty query string, and arrays nested more than two deep under an object filter.

Pure: it writes SQL; literals and keys travel as query parameters, never in its text.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from hookhouse.common.domain.filters import COMPARE_OPS, MAX_DEPTH, InvalidFilter, depth
from hookhouse.common.domain.routing import FILTERED_PARTS

NO, UNDECIDED, YES = 0, 1, 2
NUMERIC = "('Int64', 'UInt64', 'Double')"
EXACT = 2**53  # beyond it a float may differ from the integer Python compares
_SQL_OPS = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}

# The parts of a stored request as raw JSON (``''``: Python would not read it the same).
# ``b`` is the body's bytes.  A body ClickHouse refuses as JSON is text to Python only
# when it cannot start a JSON value; otherwise Python may read what ClickHouse did not.
# ClickHouse reads JSON after a byte order mark, Python does not.
BODY = (
    "multiIf(b = '', 'null', isValidJSON(b) AND NOT startsWith(b, '\\xEF\\xBB\\xBF'), b, "
    "isValidUTF8(b) AND NOT match(b, '^[ \\\\t\\\\n\\\\r]*[-0-9{\\\\[\"tfn]'), "
    "toJSONString(b), '')"
)
PARTS = {
    "body": BODY,
    "headers": "toJSONString(headers)",
    "query": "if(query = '', '{}', '')",
    "path": "toJSONString(path)",
}


class Compiled:
    """One rule's expression (``sql``) and its query parameters."""

    def __init__(self) -> None:
        self.parameters: dict[str, Any] = {}
        self._lambdas = 0

    def literal(self, value: Any, kind: str) -> str:
        name = f"f{len(self.parameters)}"
        self.parameters[name] = value
        return f"{{{name}:{kind}}}"

    def variable(self) -> str:
        self._lambdas += 1
        return f"x{self._lambdas}"


def rule_verdict(rule: dict[str, Any], compiled: Compiled) -> str:
    """The verdict of a filter rule: every part it names must match (``routing.passes``).

    The parts are read from the columns of ``requests``; the caller binds ``b`` to the
    body's bytes (``base64Decode(body)``)."""
    checks = []
    for part in FILTERED_PARTS:
        if part in rule:
            spec = rule[part]
            if depth(spec) > MAX_DEPTH:
                raise InvalidFilter(f"filter: nests deeper than {MAX_DEPTH} levels")
            document = f"doc_{part}"
            checks.append(f"if({document} = '', {UNDECIDED}, {_spec(spec, document, compiled)})")
    return least(checks)


def documents(rule: dict[str, Any]) -> list[str]:
    """The ``WITH`` clauses a rule's verdict reads: each filtered part's raw JSON."""
    return [f"{PARTS[part]} AS doc_{part}" for part in FILTERED_PARTS if part in rule]


def least(parts: list[str]) -> str:
    """Every verdict of ``parts`` (``YES`` when there is none)."""
    if not parts:
        return str(YES)
    return parts[0] if len(parts) == 1 else f"least({', '.join(parts)})"


def _greatest(parts: list[str]) -> str:
    if not parts:
        return str(NO)
    return parts[0] if len(parts) == 1 else f"greatest({', '.join(parts)})"


def _any(element: Callable[[str], str], array: str, compiled: Compiled) -> str:
    """The greatest verdict of ``element`` over the raw elements of a JSON array
    (``NO`` for an empty one)."""
    x = compiled.variable()
    mapped = f"arrayMap({x} -> {element(x)}, JSONExtractArrayRaw({array}))"
    return f"arrayMax(arrayPushBack({mapped}, 0))"


def _spec(spec: Any, v: str, compiled: Compiled) -> str:
    """``filters._compile``: the verdict of ``spec`` on the raw value ``v``."""
    if isinstance(spec, dict):
        operators = {key: sub for key, sub in spec.items() if key.startswith("$")}
        if operators:
            checks = [_operator(op, arg, v, compiled) for op, arg in operators.items()]
            rest = {key: sub for key, sub in spec.items() if not key.startswith("$")}
            if rest:
                checks.append(_spec(rest, v, compiled))
            return least(checks)
        return _object(spec, v, compiled)
    if isinstance(spec, list):
        if not spec:
            return f"if(JSONType({v}) = 'Array', {YES}, {NO})"
        wanted = [_any(partial(_spec_of, sub, compiled=compiled), v, compiled) for sub in spec]
        return f"if(JSONType({v}) = 'Array', {least(wanted)}, {NO})"
    return _contains_equal(spec, v, compiled)


def _spec_of(spec: Any, v: str, *, compiled: Compiled) -> str:
    return _spec(spec, v, compiled)


def _object(fields: dict[str, Any], v: str, compiled: Compiled) -> str:
    """An object filter: ``v`` is such an object, or an array holding one (arrays of
    arrays too: two levels here, deeper ones undecided)."""
    item = compiled.variable()
    if fields:
        each = [
            _spec(sub, f"JSONExtractRaw({item}, {compiled.literal(key, 'String')})", compiled)
            for key, sub in fields.items()
        ]
        twice = f"JSONLength({item}) != length(arrayDistinct(JSONExtractKeys({item})))"
        matched = f"if({twice}, {UNDECIDED}, {least(each)})"
    else:
        matched = str(YES)
    inner = compiled.variable()
    flattened = (
        f"arrayFlatten(arrayMap({inner} -> if(JSONType({inner}) = 'Array', "
        f"JSONExtractArrayRaw({inner}), [{inner}]), JSONExtractArrayRaw({v})))"
    )
    candidates = f"if(JSONType({v}) = 'Array', {flattened}, [{v}])"
    verdict = (
        f"multiIf(JSONType({item}) = 'Object', {matched}, "
        f"JSONType({item}) = 'Array', {UNDECIDED}, {NO})"
    )
    return f"arrayMax(arrayPushBack(arrayMap({item} -> {verdict}, {candidates}), 0))"


def _same(literal: Any, v: str, compiled: Compiled) -> str:
    """``filters._same`` of a raw value and a literal."""
    if isinstance(literal, bool):
        wanted = "1" if literal else "0"
        return f"if(JSONType({v}) = 'Bool' AND JSONExtractBool({v}) = {wanted}, {YES}, {NO})"
    if literal is None:
        return f"if({v} != '' AND JSONType({v}) = 'Null', {YES}, {NO})"
    if isinstance(literal, str):
        text = compiled.literal(literal, "String")
        return f"if(JSONType({v}) = 'String' AND JSONExtractString({v}) = {text}, {YES}, {NO})"
    if isinstance(literal, int | float):
        if abs(literal) > EXACT:
            return f"if(JSONType({v}) IN {NUMERIC}, {UNDECIDED}, {NO})"
        number = compiled.literal(float(literal), "Float64")
        return (
            f"multiIf(JSONType({v}) NOT IN {NUMERIC}, {NO}, "
            f"abs(JSONExtractFloat({v})) > {EXACT}, {UNDECIDED}, "
            f"JSONExtractFloat({v}) = {number}, {YES}, {NO})"
        )
    # an object or an array: equal only to a value of the same kind, not compared here
    return f"if(JSONType({v}) IN ('Object', 'Array'), {UNDECIDED}, {NO})"


def _contains_equal(literal: Any, v: str, compiled: Compiled) -> str:
    """A literal matches an equal value, or an array holding one."""
    return (
        f"if(JSONType({v}) = 'Array', "
        f"{_any(lambda x: _same(literal, x, compiled), v, compiled)}, "
        f"{_same(literal, v, compiled)})"
    )


def _is_ref(arg: Any) -> bool:
    return isinstance(arg, dict) and set(arg) == {"$ref"}


def _present(v: str, verdict: str) -> str:
    """``verdict`` for a value that is there; ``NO`` for an absent one."""
    return f"if({v} = '', {NO}, {verdict})"


def _operator(op: str, arg: Any, v: str, compiled: Compiled) -> str:
    if op == "$exist":
        if not isinstance(arg, bool):
            raise InvalidFilter(f"{op}: takes true or false")
        return f"if({v} != '', {YES if arg else NO}, {NO if arg else YES})"
    if op in ("$and", "$or"):
        if not isinstance(arg, list) or not arg:
            raise InvalidFilter(f"{op}: takes a non-empty list of filters")
        parts = [_spec(sub, v, compiled) for sub in arg]
        return least(parts) if op == "$and" else _greatest(parts)
    if op == "$not":
        return f"({YES} - {_spec(arg, v, compiled)})"
    negate = op in ("$neq", "$nin")
    if op == "$ref" or _is_ref(arg):
        verdict = _present(v, str(UNDECIDED))
    elif op in ("$eq", "$neq"):
        verdict = _same(arg, v, compiled)
    elif op in ("$in", "$nin"):
        verdict = _is_in(arg, v, compiled)
    elif op in COMPARE_OPS:
        verdict = _compare(op, arg, v, compiled)
    elif op in ("$startsWith", "$endsWith"):
        verdict = _affix(op, arg, v, compiled)
    else:
        raise InvalidFilter(f"unknown operator {op!r}")
    return f"({YES} - {verdict})" if negate else verdict


def _is_compound(value: Any) -> bool:
    return isinstance(value, dict | list)


def _is_in(options: Any, v: str, compiled: Compiled) -> str:
    """``filters._is_in``: one of a list; a substring of a string; an element of an array."""
    if isinstance(options, list):
        if any(_is_compound(option) for option in options):
            return _present(v, str(UNDECIDED))

        def one_of(x: str) -> str:
            return _greatest([_same(option, x, compiled) for option in options])

        return f"if(JSONType({v}) = 'Array', {_any(one_of, v, compiled)}, {one_of(v)})"
    if _is_compound(options):
        return f"if(JSONType({v}) = 'Array', {UNDECIDED}, {NO})"
    element = _any(lambda x: _same(options, x, compiled), v, compiled)
    if isinstance(options, str):
        text = compiled.literal(options, "String")
        return (
            f"multiIf(JSONType({v}) = 'String', "
            f"if(position(JSONExtractString({v}), {text}) > 0, {YES}, {NO}), "
            f"JSONType({v}) = 'Array', {element}, {NO})"
        )
    return f"if(JSONType({v}) = 'Array', {element}, {NO})"


def _compare(op: str, operand: Any, v: str, compiled: Compiled) -> str:
    """Two numbers or two strings in order; anything else does not match."""
    sign = _SQL_OPS[op]
    if isinstance(operand, str):
        text = compiled.literal(operand, "String")
        return f"if(JSONType({v}) = 'String' AND JSONExtractString({v}) {sign} {text}, {YES}, {NO})"
    if isinstance(operand, int | float) and not isinstance(operand, bool):
        if abs(operand) > EXACT:
            return f"if(JSONType({v}) IN {NUMERIC}, {UNDECIDED}, {NO})"
        number = compiled.literal(float(operand), "Float64")
        return (
            f"multiIf(JSONType({v}) NOT IN {NUMERIC}, {NO}, "
            f"abs(JSONExtractFloat({v})) > {EXACT}, {UNDECIDED}, "
            f"JSONExtractFloat({v}) {sign} {number}, {YES}, {NO})"
        )
    return str(NO)


def _affix(op: str, arg: Any, v: str, compiled: Compiled) -> str:
    """A string that starts (ends) with the text, or with any text of a list."""
    if not isinstance(arg, str | list):
        if not isinstance(arg, dict) or "$ref" not in arg:
            raise InvalidFilter(f"{op}: takes a string or a list of strings")
        return str(NO)  # a literal object holds no text to start with
    options = [o for o in (arg if isinstance(arg, list) else [arg]) if isinstance(o, str)]
    function = "startsWith" if op == "$startsWith" else "endsWith"
    text = f"JSONExtractString({v})"
    each = [f"{function}({text}, {compiled.literal(o, 'String')})" for o in options]
    if not each:
        return str(NO)
    return f"if(JSONType({v}) = 'String' AND ({' OR '.join(each)}), {YES}, {NO})"
