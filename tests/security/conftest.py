from __future__ import annotations

from collections.abc import Iterator

import pytest

from hookhouse.common.settings import Settings
from tests.api_client import Tenants, running_api


@pytest.fixture(scope="module")
def tenants(settings: Settings) -> Iterator[Tenants]:
    """As the suite's, but an error the API lets through is the 500 a client would get."""
    with running_api(settings, raise_server_exceptions=False) as made:
        yield made
