"""Each end-to-end module gets its own stack and receiver (one module at a time: they
share the stack's ports)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.running import Stack
from tests.receiver import Receiver


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    running = Stack(tmp_path_factory.mktemp("stack") / "home")
    running.up()
    yield running
    if running.process is not None:
        running.down()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with Receiver() as r:
        yield r
