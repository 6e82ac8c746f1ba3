"""Connection rules are checked before they reach the config log."""

from __future__ import annotations

from typing import Any

import pytest

from hookhouse.common.domain.rules import InvalidRule, check_rules


def check(rules: Any) -> list[dict[str, Any]]:
    return check_rules(rules, lambda transformation_id: transformation_id == "trs_ok")


def test_valid_rules_pass_unchanged() -> None:
    rules = [
        {"type": "retry", "strategy": "exponential", "interval": 1000, "count": 3},
        {"type": "transform", "transformation_id": "trs_ok"},
        {"type": "filter", "body": {"type": {"$startsWith": "order."}}, "path": "/x"},
        {"type": "delay", "delay": 86_400_000},
        {"type": "deduplicate", "window": 1000, "exclude_fields": ["headers.date"]},
    ]
    assert check(rules) == rules
    assert check(None) == []


@pytest.mark.parametrize(
    ("rules", "message"),
    [
        ({"type": "retry"}, "must be a list"),
        ([{"type": "sleep"}], "rules[0]: 'type' must be one of"),
        ([{"type": "delay", "delay": 1}, {"type": "delay", "delay": 2}], "at most one delay"),
        ([{"type": "retry", "strategy": "random"}], "linear or exponential"),
        ([{"type": "filter"}], "at least one of body"),
        ([{"type": "filter", "body": {"a": {"$like": 1}}}], "unknown operator '$like'"),
        ([{"type": "transform", "transformation_id": "trs_other"}], "no transformation"),
        ([{"type": "delay", "delay": 86_400_001}], "24 h"),
        ([{"type": "delay", "delay": True}], "milliseconds"),
        ([{"type": "deduplicate", "window": 999}], "1 s"),
        ([{"type": "deduplicate", "window": 3_600_001}], "1 h"),
        (
            [
                {
                    "type": "deduplicate",
                    "window": 5000,
                    "include_fields": ["a"],
                    "exclude_fields": ["b"],
                }
            ],
            "not both",
        ),
        ([{"type": "deduplicate", "window": 5000, "include_fields": "body.id"}], "list of field"),
    ],
)
def test_invalid_rules_name_the_rule_and_the_problem(rules: Any, message: str) -> None:
    with pytest.raises(InvalidRule) as raised:
        check(rules)
    assert message in str(raised.value)
