"""A connection's body: its source and destination (by id or inline), its rules,
which the domain checks (``rules.check_rules``), its ordering (``ordering.parse``), and
an optional backfill to start."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, SkipValidation, ValidationInfo

from hookhouse.api.models.actions import BackfillInput
from hookhouse.api.models.base import Input, Text, refused
from hookhouse.api.models.destinations import DestinationInput
from hookhouse.api.models.sources import SourceInput
from hookhouse.api.models.transformations import TransformationInput
from hookhouse.common.domain.ordering import InvalidOrdering, parse
from hookhouse.common.domain.rules import RULE_TYPES as RULE_TYPES
from hookhouse.common.domain.rules import InvalidRule, check_rules

SAMPLE_MAX = 1_000  # requests a backtest runs through transformations


class Rule(Input):
    """One rule, as the document shows it: the fields each type reads (``rules.py``)."""

    type: Literal["retry", "filter", "transform", "delay", "deduplicate"]
    strategy: Literal["linear", "exponential"] | None = None
    interval: int | None = None
    count: int | None = None
    response_status_codes: list[str] | None = None
    body: Any = None
    headers: Any = None
    query: Any = None
    path: Any = None
    transformation_id: str | None = None
    transformation: TransformationInput | None = None
    delay: int | None = None
    window: int | None = None
    include_fields: list[str] | None = None
    exclude_fields: list[str] | None = None


assert Rule.model_fields["type"].annotation.__args__ == RULE_TYPES  # type: ignore[union-attr]


def checked_rules(given: Any, info: ValidationInfo) -> list[dict[str, Any]]:
    """The domain's check; the context says which transformations the project has."""
    exists = (info.context or {}).get("transformation_exists", lambda _: False)
    try:
        return check_rules(given, exists)
    except InvalidRule as exc:
        raise refused(str(exc)) from exc


def checked_ordering(given: Any) -> dict[str, str] | None:
    """``{"key": "<path>"}`` as the domain reads it, or ``None`` (no order)."""
    try:
        ordering = parse(given)
    except InvalidOrdering as exc:
        raise refused(str(exc)) from exc
    return None if ordering is None else {"key": given["key"]}


class Ordering(Input):
    """As the document shows it; :func:`checked_ordering` checks it."""

    key: str


class ConnectionInput(Input):
    """Inline ``source``, ``destination`` and rule ``transformation`` objects are
    checked by their own models when they are staged."""

    name: Text | None = None
    description: str | None = None
    source_id: Text | None = None
    destination_id: Text | None = None
    source: SkipValidation[SourceInput | None] = None
    destination: SkipValidation[DestinationInput | None] = None
    rules: Annotated[SkipValidation[list[Rule]], BeforeValidator(checked_rules)] = []
    # Events with the same value at this path are delivered in order (docs/connections.md).
    ordering: Annotated[SkipValidation[Ordering | None], BeforeValidator(checked_ordering)] = None
    # Not stored: once the connection is written, a backfill of its source's requests
    # since then starts (its job is in the answer's "backfill").
    backfill: BackfillInput | None = None


class BacktestInput(Input):
    """A backtest: ``rules`` (or a saved connection's), over a source's requests from
    ``since`` to ``until``; rules are checked by the handler, inline code included."""

    source_id: Text | None = None
    connection_id: Text | None = None
    rules: SkipValidation[list[Any]] | None = None
    since: Text | None = None
    until: Text | None = None
    sample_size: Annotated[int, Field(ge=1, le=SAMPLE_MAX)] = 100
