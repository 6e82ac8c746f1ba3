"""A connection's filter as a ClickHouse expression over stored requests (backtests).

The expression answers, per stored request, what ``routing.passes`` would answer for a
filter rule, in three values: :data:`NO`, :data:`YES`, or :data:`UNDECIDED` where SQL
cannot say it exactly and the caller evaluates that request in Python.  The three values
are ordered so that Kleene's logic is plain arithmetic: *and* is ``least``, *or* is
``greatest``, *not* is ``2 - x``; "any element of an array" is the greatest over it.

A value of the document is carried as its JSON text as ClickHouse writes it back
(``JSONExtract…Raw``: no spaces, so its first character says its type; ``''`` when the
key is absent).  Each step into an object reads all its keys and values in one parse and
takes the *last* value of a key, as Python does; each step into an array reads its
elements.  So the semantics of ``filters.py`` hold step by step: an object filter also
matches the objects inside arrays (two levels of arrays here; deeper ones are
undecided), a literal matches an equal element of an array, ``$in`` on two strings is
a substring, numbers compare as numbers and booleans are not numbers.

Before any of that, :func:`needs` makes a test on the body's bytes that every request
the filter can match passes: the keys it names and the texts it wants must be there.
Without a backslash in the body (no escapes can hide a text), a body that fails it is
filtered at the cost of a substring search, and only the others are parsed.

Undecided, and left to Python:

- a body that ClickHouse does not read as JSON but that may be JSON to Python (deeper
  than ClickHouse's 1,024 levels, a lone surrogate), or text that is not UTF-8;
- a number of 2**53 or more in size, where a float is no longer exact, and a text of 19
  digits or more (ClickHouse writes an integer beyond 64 bits back as such a text); a
  body with an integer of 309 digits or more (ClickHouse reads it, Python does not);
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
EXACT = 2**53  # from it on, a float may differ from the integer Python compares
_SQL_OPS = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}

# The parts of a stored request as JSON text (``''``: Python would not read it the
# same).  ``b`` is the body's bytes.  A body ClickHouse refuses as JSON is text to Python
# only when it cannot start a JSON value; otherwise Python may read what ClickHouse did
# not.  ClickHouse reads JSON after a byte order mark, Python does not; ClickHouse reads
# an integer of 309 digits or more (as a text), Python refuses it (infinite as a float).
BODY = (
    "multiIf(b = '', 'null', isValidJSON(b) AND NOT startsWith(b, '\\xEF\\xBB\\xBF') "
    "AND NOT (length(b) > 308 AND match(b, '[0-9]{309}')), "
    "trimBoth(b, ' \\t\\n\\r'), "
    "isValidUTF8(b) AND NOT match(b, '^[ \\\\t\\\\n\\\\r]*[-0-9{\\\\[\"tfn]'), "
    "toJSONString(b), '')"
)
PARTS = {
    "body": BODY,
    "headers": "toJSONString(headers)",
    "query": "if(query = '', '{}', '')",
    "path": "toJSONString(path)",
}


PARAMETERS_MAX = 400  # distinct literals sent one parameter each; past it, in arrays


class Compiled:
    """One query's expressions share these parameters (and lambda names).

    Each distinct literal is one parameter, or with ``arrays`` an element of one of two
    array parameters (texts, numbers): ClickHouse takes about a thousand parameters,
    and a filter may hold more literals than that, but an element of an array is slower
    to search for (inside a lambda it is read again for every value)."""

    def __init__(self, arrays: bool = False) -> None:
        self.arrays = arrays
        self._values: dict[str, dict[Any, int]] = {"String": {}, "Float64": {}}
        self._lambdas = 0

    @property
    def parameters(self) -> dict[str, Any]:
        texts, numbers = self._values["String"], self._values["Float64"]
        if self.arrays:
            return {"ft": list(texts), "fn": list(numbers)}
        return {
            "ft": [],
            "fn": [],
            **{f"ft{n}": value for value, n in texts.items()},
            **{f"fn{n}": value for value, n in numbers.items()},
        }

    @property
    def literals(self) -> int:
        return sum(len(values) for values in self._values.values())

    def literal(self, value: Any, kind: str) -> str:
        """``value`` (a ``String`` or a ``Float64``) as SQL."""
        values = self._values[kind]
        index = values.setdefault(value, len(values) + 1)
        name = "ft" if kind == "String" else "fn"
        return f"{name}[{index}]" if self.arrays else f"{{{name}{index}:{kind}}}"

    def variable(self) -> str:
        self._lambdas += 1
        return f"x{self._lambdas}"


def verdict_of(rules: list[dict[str, Any]]) -> tuple[str, Compiled]:
    """Every filter rule of ``rules`` must pass: the expression, and its parameters."""
    compiled = Compiled()
    verdict = least([rule_verdict(rule, compiled) for rule in rules])
    if compiled.literals > PARAMETERS_MAX:
        compiled = Compiled(arrays=True)
        verdict = least([rule_verdict(rule, compiled) for rule in rules])
    return verdict, compiled


def rule_verdict(rule: dict[str, Any], compiled: Compiled) -> str:
    """The verdict of a filter rule: every part it names must match (``routing.passes``).

    The parts are read from the columns of ``requests``; the caller binds ``b`` to the
    body's bytes (:data:`BYTES`)."""
    checks = []
    for part in FILTERED_PARTS:
        if part in rule:
            spec = rule[part]
            if depth(spec) > MAX_DEPTH:
                raise InvalidFilter(f"filter: nests deeper than {MAX_DEPTH} levels")

            def whole(document: str, spec: Any = spec) -> str:
                verdict = _spec(spec, document, compiled)
                return f"if({document} = '', {UNDECIDED}, {verdict})"

            # computed inside the branch, so that a body the test on its bytes
            # filtered is never parsed
            check = _let(PARTS[part], whole, compiled)
            need = needs(spec, compiled) if part == "body" else None
            if need is not None:
                check = f"if(position(b, '\\\\') = 0 AND NOT ({need}), {NO}, {check})"
            checks.append(check)
    return least(checks)


# The WITH clause every verdict reads: its literals (an alias of a parameter is read as
# a constant, an element of a parameter is not) and the body's bytes.
BYTES = "{ft:Array(String)} AS ft, {fn:Array(Float64)} AS fn, base64Decode(body) AS b"


def least(parts: list[str]) -> str:
    """Every verdict of ``parts`` (``YES`` when there is none)."""
    if not parts:
        return str(YES)
    return parts[0] if len(parts) == 1 else f"least({', '.join(parts)})"


def _greatest(parts: list[str]) -> str:
    if not parts:
        return str(NO)
    return parts[0] if len(parts) == 1 else f"greatest({', '.join(parts)})"


# -- kinds of a JSON text, by its first character --------------------------------------


def _object_(v: str) -> str:
    return f"startsWith({v}, '{{')"


def _array_(v: str) -> str:
    return f"startsWith({v}, '[')"


def _number_(v: str) -> str:
    return f"({v} != '' AND position('-0123456789', substring({v}, 1, 1)) > 0)"


def _text_(v: str) -> str:
    """A string (or an integer beyond 64 bits, which ClickHouse writes as one: see
    :func:`_unsure`)."""
    return f"startsWith({v}, '\"')"


def _unsure(v: str, verdict: str) -> str:
    """``verdict`` on a string or number, undecided for a text of 19 digits or more
    (an integer beyond 64 bits to Python, a string to ClickHouse)."""
    return f"if(length({v}) > 20 AND match({v}, '^\"-?[0-9]+\"$'), {UNDECIDED}, {verdict})"


# -- the filter, construct by construct (``filters._compile``) -------------------------


def _any(element: Callable[[str], str], array: str, compiled: Compiled) -> str:
    """The greatest verdict of ``element`` over the elements of a JSON array (``NO`` for
    an empty one)."""
    x = compiled.variable()
    mapped = f"arrayMap({x} -> {element(x)}, JSONExtractArrayRaw({array}))"
    return f"arrayMax(arrayPushBack({mapped}, 0))"


def _spec(spec: Any, v: str, compiled: Compiled) -> str:
    """The verdict of ``spec`` on the JSON text ``v``."""
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
        wanted = [_any(partial(_spec_of, sub, compiled=compiled), v, compiled) for sub in spec]
        return f"if({_array_(v)}, {least(wanted)}, {NO})"
    return _contains_equal(spec, v, compiled)


def _spec_of(spec: Any, v: str, *, compiled: Compiled) -> str:
    return _spec(spec, v, compiled)


def _let(value: str, body: Callable[[str], str], compiled: Compiled) -> str:
    """``body`` over ``value`` computed once: a lambda over a one-element array (inside
    a lambda, ClickHouse computes each occurrence of an expression again)."""
    x = compiled.variable()
    return f"arrayMap({x} -> {body(x)}, [{value}])[1]"


def _object(fields: dict[str, Any], v: str, compiled: Compiled) -> str:
    """An object filter: ``v`` is such an object, or an array holding one (arrays of
    arrays too: two levels here, deeper ones undecided).  Each object is read whole,
    all its keys and values in one parse, to take the last value of a key as Python
    does."""
    item = compiled.variable()
    if fields:

        def matched_in(pairs: str) -> str:
            each = []
            for key, sub in fields.items():
                # the last value of the key, as Python keeps it; '' when there is none
                name = compiled.literal(key, "String")
                last = (
                    f"({pairs}.2)[length({pairs}) + 1 - indexOf(arrayReverse({pairs}.1), {name})]"
                )
                each.append(_let(last, partial(_spec_of, sub, compiled=compiled), compiled))
            return least(each)

        matched = _let(f"JSONExtractKeysAndValuesRaw({item})", matched_in, compiled)
    else:
        matched = str(YES)
    inner = compiled.variable()
    flattened = (
        f"arrayFlatten(arrayMap({inner} -> if({_array_(inner)}, "
        f"JSONExtractArrayRaw({inner}), [{inner}]), JSONExtractArrayRaw({v})))"
    )
    candidates = f"if({_array_(v)}, {flattened}, [{v}])"
    verdict = f"multiIf({_object_(item)}, {matched}, {_array_(item)}, {UNDECIDED}, {NO})"
    return f"arrayMax(arrayPushBack(arrayMap({item} -> {verdict}, {candidates}), 0))"


def _same(literal: Any, v: str, compiled: Compiled) -> str:
    """``filters._same`` of a JSON text and a literal."""
    if isinstance(literal, bool):
        return f"if({v} = '{'true' if literal else 'false'}', {YES}, {NO})"
    if literal is None:
        return f"if({v} = 'null', {YES}, {NO})"
    if isinstance(literal, str):
        text = compiled.literal(literal, "String")
        return _unsure(v, f"if({_text_(v)} AND JSONExtractString({v}) = {text}, {YES}, {NO})")
    if isinstance(literal, int | float):
        return _numbers(v, "=", literal, compiled)
    # an object or an array: equal only to a value of the same kind, not compared here
    return f"if({_object_(v)} OR {_array_(v)}, {UNDECIDED}, {NO})"


def _numbers(v: str, sign: str, number: float, compiled: Compiled) -> str:
    """``v`` is a number and ``v <sign> number``; undecided from 2**53 on."""
    if abs(number) >= EXACT:
        return _unsure(v, f"if({_number_(v)}, {UNDECIDED}, {NO})")
    operand = compiled.literal(float(number), "Float64")
    return _unsure(
        v,
        f"multiIf(NOT {_number_(v)}, {NO}, abs(JSONExtractFloat({v})) >= {EXACT}, "
        f"{UNDECIDED}, JSONExtractFloat({v}) {sign} {operand}, {YES}, {NO})",
    )


def _contains_equal(literal: Any, v: str, compiled: Compiled) -> str:
    """A literal matches an equal value, or an array holding one."""
    element = _any(lambda x: _same(literal, x, compiled), v, compiled)
    return f"if({_array_(v)}, {element}, {_same(literal, v, compiled)})"


def _is_ref(arg: Any) -> bool:
    return isinstance(arg, dict) and set(arg) == {"$ref"}


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
        verdict = f"if({v} = '', {NO}, {UNDECIDED})"  # a value read from the document
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
            return f"if({v} = '', {NO}, {UNDECIDED})"

        def one_of(x: str) -> str:
            return _greatest([_same(option, x, compiled) for option in options])

        return f"if({_array_(v)}, {_any(one_of, v, compiled)}, {one_of(v)})"
    if _is_compound(options):
        return f"if({_array_(v)}, {UNDECIDED}, {NO})"
    element = _any(lambda x: _same(options, x, compiled), v, compiled)
    if isinstance(options, str):
        text = compiled.literal(options, "String")
        contains = f"if(position(JSONExtractString({v}), {text}) > 0, {YES}, {NO})"
        return f"multiIf({_text_(v)}, {_unsure(v, contains)}, {_array_(v)}, {element}, {NO})"
    return f"if({_array_(v)}, {element}, {NO})"


def _compare(op: str, operand: Any, v: str, compiled: Compiled) -> str:
    """Two numbers or two strings in order; anything else does not match."""
    sign = _SQL_OPS[op]
    if isinstance(operand, str):
        text = compiled.literal(operand, "String")
        ordered = f"if({_text_(v)} AND JSONExtractString({v}) {sign} {text}, {YES}, {NO})"
        return _unsure(v, ordered)
    if isinstance(operand, int | float) and not isinstance(operand, bool):
        return _numbers(v, sign, operand, compiled)
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
    return _unsure(v, f"if({_text_(v)} AND ({' OR '.join(each)}), {YES}, {NO})")


# -- what the body's bytes must hold for the filter to match ---------------------------


def needs(spec: Any, compiled: Compiled, inside: bool = False) -> str | None:
    """A test on the body's bytes ``b`` that holds for every body without a backslash
    that ``spec`` matches; ``None`` when there is no such test.

    Without escapes, a key of an object is in the bytes as ``"key"`` and a string's
    text as itself; ``inside`` an object or array, which a body of plain text never
    matches, a string equal to a text is in the bytes as ``"text"``."""
    quote = '"' if inside else ""
    if isinstance(spec, str):
        return _found(quote + spec + quote, compiled)
    if isinstance(spec, list):
        return _all([needs(sub, compiled, inside=True) for sub in spec])
    if not isinstance(spec, dict):
        return None
    tests = []
    for key, sub in spec.items():
        if key.startswith("$"):
            tests.append(_needs_operator(key, sub, compiled, quote, inside))
        else:
            if _fails_absent(sub):
                tests.append(_found(f'"{key}"', compiled))
            tests.append(needs(sub, compiled, inside=True))
    return _all(tests)


def _needs_operator(op: str, arg: Any, compiled: Compiled, quote: str, inside: bool) -> str | None:
    if op == "$eq" and isinstance(arg, str):
        return _found(quote + arg + quote, compiled)
    if op == "$in" and isinstance(arg, str):
        return _found(arg, compiled)  # a substring of the value, or an element of it
    if op == "$in" and isinstance(arg, list):
        options = [_found(quote + o + quote, compiled) if isinstance(o, str) else None for o in arg]
        return _one(options)
    if op in ("$startsWith", "$endsWith") and isinstance(arg, str | list):
        texts = [o for o in (arg if isinstance(arg, list) else [arg]) if isinstance(o, str)]
        if op == "$startsWith":
            return _one([_found(quote + o, compiled) for o in texts])
        return _one([_found(o + quote, compiled) for o in texts])
    if op in ("$and", "$or") and isinstance(arg, list):
        found = [needs(sub, compiled, inside) for sub in arg]
        return _all(found) if op == "$and" else _one(found)
    return None


def _fails_absent(spec: Any) -> bool:
    """Does ``spec`` fail on an absent key?  (If so, the key must be in the bytes.)"""
    if not isinstance(spec, dict):
        return True  # a literal, an object, a list
    if not any(key.startswith("$") for key in spec):
        return True
    present = {"$eq", "$in", "$ref", "$startsWith", "$endsWith", *COMPARE_OPS}
    if any(key in present or (key == "$exist" and spec[key] is True) for key in spec):
        return True
    if any(not key.startswith("$") for key in spec):
        return True  # the fields beside the operators are an object filter
    if isinstance(spec.get("$and"), list) and any(_fails_absent(s) for s in spec["$and"]):
        return True
    alternatives = spec.get("$or")
    return isinstance(alternatives, list) and all(_fails_absent(s) for s in alternatives)


def _found(text: str, compiled: Compiled) -> str | None:
    """``text`` is in the bytes; ``None`` for a text JSON writes otherwise (a quote or
    a backslash, but for the quotes around it; control characters) or that Python may
    have made of bytes that are not UTF-8 (U+FFFD)."""
    inner = text[1:] if text.startswith('"') else text
    inner = inner[:-1] if inner.endswith('"') else inner
    if not inner or any(c in inner for c in '"\\\ufffd') or min(map(ord, inner)) < 0x20:
        return None
    return f"position(b, {compiled.literal(text, 'String')}) > 0"


def _all(tests: list[str | None]) -> str | None:
    known = [t for t in tests if t is not None]
    return " AND ".join(f"({t})" for t in known) if known else None


def _one(tests: list[str | None]) -> str | None:
    if not tests or any(t is None for t in tests):
        return None
    return " OR ".join(f"({t})" for t in tests if t is not None)
