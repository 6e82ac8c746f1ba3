"""Every topic's examples validate against its schema and round-trip through the models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from jsonschema import Draft202012Validator, FormatChecker

from hookhouse.common.domain.records import ROW_KINDS, Delivery, InboundRequest
from hookhouse.common.domain.schemas import first_error

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
EXAMPLES = sorted(SCHEMAS.glob("*/examples/*.json"))


def validator(topic: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS / topic / "v1.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def test_every_topic_has_examples() -> None:
    topics = {p.parent.parent.name for p in EXAMPLES}
    assert topics == {"requests", "deliveries", "records", "dlq", "config"}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_example_is_valid(example: Path) -> None:
    validator(example.parent.parent.name).validate(json.loads(example.read_text()))


def roundtrip(build: Any, data: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = orjson.loads(orjson.dumps(build(data)))
    return result


def test_request_examples_roundtrip() -> None:
    for path in SCHEMAS.glob("requests/examples/*.json"):
        data = json.loads(path.read_text())
        assert roundtrip(InboundRequest.from_dict, data) == data
        assert InboundRequest.from_dict(data).body_bytes == b'{"hello":"world"}'


def test_delivery_examples_roundtrip() -> None:
    for path in SCHEMAS.glob("deliveries/examples/*.json"):
        data = json.loads(path.read_text())
        assert roundtrip(Delivery.from_dict, data) == data


@pytest.mark.parametrize("kind", sorted(ROW_KINDS))
def test_record_examples_roundtrip(kind: str) -> None:
    data = json.loads((SCHEMAS / "records" / "examples" / f"v1-{kind}.json").read_text())
    assert roundtrip(lambda d: ROW_KINDS[kind](**d), data) == data


def test_schema_rejects_a_request_without_body() -> None:
    data = json.loads((SCHEMAS / "requests/examples/v1-json-body.json").read_text())
    del data["body"]
    assert list(validator("requests").iter_errors(data))
    assert first_error("requests", data) == 'the record: "body" is a required property'
    assert first_error("requests", {**data, "body": 5}) == 'body: 5 is not of type "string"'
