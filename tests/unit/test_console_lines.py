"""A transformation's console lines as Hookdeck's ConsoleLine objects, and a run's level."""

from __future__ import annotations

from hookhouse.api.shapes import console_lines, log_level


def test_each_console_method_keeps_its_type_and_console_log_is_log() -> None:
    lines = console_lines(["plain", "warn: careful", "error: broke", "debug: x", "nope: y"])
    assert lines == [
        {"type": "log", "message": "plain"},
        {"type": "warn", "message": "careful"},
        {"type": "error", "message": "broke"},
        {"type": "debug", "message": "x"},
        {"type": "log", "message": "nope: y"},
    ]


def test_the_level_is_the_highest_line_s_or_error_when_the_run_failed() -> None:
    assert log_level([], failed=False) == "info"
    assert log_level(console_lines(["plain"]), failed=False) == "info"
    assert log_level(console_lines(["debug: a", "warn: b"]), failed=False) == "warn"
    assert log_level(console_lines(["plain"]), failed=True) == "error"
