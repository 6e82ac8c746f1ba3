"""The JSON Schemas of the topics' messages (``schemas/<topic>/v<N>.schema.json``)."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

SCHEMAS_DIR = Path(__file__).resolve().parents[2] / "schemas"


@functools.cache
def validator(topic: str, version: int = 1) -> Draft202012Validator:
    schema = json.loads((SCHEMAS_DIR / topic / f"v{version}.schema.json").read_text())
    return Draft202012Validator(schema)


def first_error(topic: str, data: Any) -> str | None:
    """What is wrong with ``data`` for ``topic``'s schema, or ``None`` when it is valid."""
    for error in validator(topic).iter_errors(data):
        where = "/".join(str(part) for part in error.absolute_path) or "the record"
        return f"{where}: {error.message}"
    return None
