"""What the API answers (Hookdeck's shapes, API 2024-03-01), as ``shapes.py`` builds
them: the OpenAPI document's response schemas.  A key the SDK requires is required
here; ``None`` where hookhouse may have nothing to show."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from hookhouse.api.models.actions import IssueStatus, Topic
from hookhouse.api.models.destinations import RateLimitPeriod
from hookhouse.api.models.issue_triggers import (
    BackpressureConfigs,
    Channels,
    DeliveryConfigs,
    IssueType,
    LogLevel,
    TransformationConfigs,
)
from hookhouse.api.models.sources import CustomResponse, HttpMethod
from hookhouse.common.domain.error_codes import HOOKDECK_CODES, OWN_CODES

Stamp = str  # an ISO 8601 time with milliseconds, UTC ("2024-03-01T12:00:00.000Z")
# Attempt error codes: Hookdeck's closed list, and hookhouse's precise code beside it.
ErrorCode = Annotated[str | None, WithJsonSchema({"enum": [*HOOKDECK_CODES, None]})]
ErrorDetail = Annotated[
    str | None,
    WithJsonSchema(
        {
            "enum": [*HOOKDECK_CODES, *OWN_CODES, None],
            "description": "hookhouse's precise code; error_code is the one of Hookdeck's list",
        }
    ),
]


class Answer(BaseModel):
    """Answers may carry more keys than the document names (hookhouse's own)."""

    model_config = ConfigDict(extra="allow")


class Resource(Answer):
    id: str
    team_id: str
    updated_at: Stamp
    created_at: Stamp


class Verification(Answer):
    type: str
    configs: dict[str, Any]


class Source(Resource):
    name: str
    description: str | None
    url: str
    verification: Verification | None
    allowed_http_methods: list[HttpMethod] | None
    custom_response: CustomResponse | None
    disabled_at: Stamp | None


class AuthMethod(Answer):
    type: str
    config: dict[str, Any] | None = None


class Destination(Resource):
    name: str
    description: str | None
    url: str | None
    http_method: HttpMethod | None
    path_forwarding_disabled: bool
    http_timeout: int | None
    rate_limit: int | None
    rate_limit_period: RateLimitPeriod | None
    auth_method: AuthMethod | None
    disabled_at: Stamp | None


class Connection(Resource):
    name: str | None
    full_name: str | None
    description: str | None
    source: Source
    destination: Destination
    rules: list[dict[str, Any]]
    ordering: dict[str, str] | None  # {"key": "<path>"}: ordered delivery per key
    disabled_at: Stamp | None
    paused_at: Stamp | None


class Transformation(Resource):
    name: str
    code: str
    env: dict[str, str]


class IssueTrigger(Resource):
    name: str | None
    type: IssueType
    configs: DeliveryConfigs | TransformationConfigs | BackpressureConfigs
    channels: Channels
    disabled_at: Stamp | None
    deleted_at: Stamp | None


class Bookmark(Resource):
    webhook_id: str
    event_data_id: str
    label: str
    name: str | None
    alias: str | None
    last_used_at: Stamp | None


class EventData(Answer):
    """What a request carried, or what an event delivers."""

    path: str
    query: str
    parsed_query: dict[str, Any]
    headers: dict[str, str]
    body: Any
    is_large_payload: bool


class Request(Resource):
    source_id: str
    verified: bool
    # Hookdeck's causes and hookhouse's own (ingest's refusals); null when accepted.
    rejection_cause: str | None
    events_count: int
    ignored_count: int
    ingested_at: Stamp
    data: EventData | None = None


class Event(Resource):
    webhook_id: str
    source_id: str
    destination_id: str
    request_id: str
    event_data_id: str
    attempts: int
    last_attempt_at: Stamp | None
    next_attempt_at: Stamp | None
    response_status: int | None
    error_code: ErrorCode
    error_detail: ErrorDetail
    status: Literal["SCHEDULED", "QUEUED", "HOLD", "SUCCESSFUL", "FAILED"]
    successful_at: Stamp | None
    cli_id: str | None
    waiting_for: str | None = Field(
        None,
        description="ordered delivery: the event of the same ordering key this one waits "
        "for (status HOLD), until that one is delivered, fails for good or is cancelled",
    )
    data: EventData | None = None


class Attempt(Resource):
    event_id: str
    destination_id: str
    response_status: int | None
    attempt_number: int
    trigger: Literal["INITIAL", "MANUAL", "BULK_RETRY", "UNPAUSE", "AUTOMATIC", "BACKFILL"]
    error_code: ErrorCode
    error_detail: ErrorDetail
    body: Any
    requested_url: str
    http_method: HttpMethod
    bulk_retry_id: str | None
    status: Literal["QUEUED", "FAILED", "SUCCESSFUL", "HOLD"]
    successful_at: Stamp | None
    delivered_at: Stamp
    response_latency: int
    response_headers: dict[str, str]


class IgnoredEvent(Resource):
    webhook_id: str
    request_id: str
    cause: Literal["DISABLED", "FILTERED", "TRANSFORMATION_FAILED", "CLI_DISCONNECTED"]
    meta: dict[str, Any]


class ConsoleLine(Answer):
    type: Literal["error", "log", "warn", "info", "debug"]
    message: str


class TransformationExecution(Resource):
    transformation_id: str
    webhook_id: str
    request_id: str
    status: str
    error: str | None
    log_level: LogLevel
    logs: list[ConsoleLine]
    duration: int
    original_event_data_id: str = Field(description="the request's id")
    transformed_event_data_id: str = Field(
        description="the id of the event its output became; the request's when none"
    )
    event_id: str | None


class BulkRetry(Resource):
    type: Literal["events", "requests", "ignored_events"]
    query: dict[str, Any]
    estimated_batch: int
    estimated_count: int
    processed_batch: int
    completed_count: int
    failed_count: int
    in_progress: bool
    progress: float
    cancelled_at: Stamp | None
    completed_at: Stamp | None


class Backfill(BulkRetry):
    """A backfill: a bulk job that routes a source's stored requests through one
    connection (``query`` holds its ``webhook_id`` and ``since``)."""

    type: Literal["backfill"]  # type: ignore[assignment]
    webhook_id: str
    since: Stamp
    until: Stamp = Field(description="the end of the window: at most the connection's creation")
    stored_since: Stamp | None = Field(
        description="requests older than this are no longer stored (ClickHouse's retention)"
    )
    per_second: float = Field(description="the most deliveries a second it sends")
    skipped_count: int = Field(description="requests the connection had already received")
    stopped_reason: Literal["CONNECTION_DELETED", "CONNECTION_DISABLED"] | None


class Issue(Resource):
    type: IssueType
    status: IssueStatus
    aggregation_keys: dict[str, list[Any]]
    reference: dict[str, str]
    first_seen_at: Stamp
    last_seen_at: Stamp
    opened_at: Stamp
    dismissed_at: Stamp | None


class NotificationSetting(Answer):
    enabled: bool
    topics: list[Topic]
    source_id: str | None


class TransformationRunResult(Answer):
    request: dict[str, Any] | None
    error: Any
    console: list[ConsoleLine]
    log_level: LogLevel


class CustomDomain(Answer):
    id: str
    hostname: str
    status: Literal["active"]
    verification_errors: list[str]
    created_at: Stamp


class BacktestFilters(Answer):
    """The filters ahead of any transformation, over every request of the range."""

    rules: int
    passed_count: int
    filtered_count: int
    decided_in_python_count: int = Field(description="requests SQL could not decide")
    undecided_count: int = Field(description="requests neither SQL nor Python decided")


class BacktestSample(Answer):
    """The rest of the rules, over the oldest requests that passed the filters."""

    rules: int
    size: int
    of: int


class BacktestError(Answer):
    request_id: str
    error: str


class BacktestResult(Answer):
    source_id: str
    since: Stamp
    until: Stamp
    requests_count: int
    evaluated_count: int = Field(description="the requests the counts below are of")
    complete: bool
    events_count: int
    filtered_count: int
    transformation_failed_count: int
    duplicate_count: int
    filters: BacktestFilters
    sample: BacktestSample | None
    samples: dict[str, list[str]] = Field(description="a few request ids per outcome")
    errors: list[BacktestError]


class Error(BaseModel):
    handled: bool = True
    status: int
    code: str
    message: str


RESOURCES = (Source, Destination, Connection, Transformation, IssueTrigger, Bookmark)
RECORDS = (
    Request,
    Event,
    Attempt,
    IgnoredEvent,
    TransformationExecution,
    BulkRetry,
    Backfill,
    Issue,
)
