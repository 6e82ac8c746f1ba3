"""The bodies of the API's actions: an issue's status, a request's retry, a bulk
retry, a backfill, the notification setting."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from hookhouse.api.models.base import Input, must

IssueStatus = Literal["OPENED", "ACKNOWLEDGED", "RESOLVED", "IGNORED"]
Topic = Literal["issue.opened", "issue.updated"]
TOPICS: tuple[str, ...] = Topic.__args__  # type: ignore[attr-defined]
# Hookdeck's other topics, refused by name rather than accepted and never sent.
ALL_TOPICS: tuple[Topic, ...] = ("issue.opened", "issue.updated")
NOT_SENT = ("deprecated.attempt-failed", "event.successful")


class IssueUpdate(Input):
    status: IssueStatus


class RequestRetry(Input):
    """Route again through these connections only (default: the source's)."""

    webhook_ids: list[str] | None = None


class BulkRetryInput(Input):
    """``query``: the filters of the list of what is retried (checked per type)."""

    query: dict[str, Any] | None = None


class BackfillInput(Input):
    """The stored requests of the connection's source received from ``since`` (an ISO
    8601 time) to ``until`` (default: now); checked by ``common/domain/backfill.py``."""

    since: str
    until: str | None = None


class NotificationSettingInput(Input):
    enabled: bool
    topics: list[Topic] = Field(default_factory=lambda: list(ALL_TOPICS))
    source_id: str | None = None

    @field_validator("topics", mode="before")
    @classmethod
    def sent(cls, topics: Any) -> Any:
        if not isinstance(topics, list) or not all(t in TOPICS for t in topics):
            raise must(f"hold only {', '.join(TOPICS)} (not {', '.join(NOT_SENT)})")
        return topics
