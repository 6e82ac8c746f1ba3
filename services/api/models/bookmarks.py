"""A bookmark's body: a request (``event_data_id``) saved for a connection
(``webhook_id``) under a ``label``; and what a replay of it targets."""

from __future__ import annotations

from typing import Any, Literal

from hookhouse.api.models.base import Input, Text


class BookmarkInput(Input):
    webhook_id: Text
    event_data_id: Text
    label: Text
    name: str | None = None

    def fields(self) -> dict[str, Any]:
        return self.model_dump()


class BookmarkTrigger(Input):
    # Hookdeck's "cli" has no CLI here; "all" is Hookdeck's older name of "http".
    target: Literal["http", "all"] = "http"
