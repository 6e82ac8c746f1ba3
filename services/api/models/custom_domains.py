"""A custom domain's body: the host name under which ingest takes the project's
requests.  What a host name may be is the domain's (``custom_domains.checked_hostname``);
the host of ingest's own URL, which no project may claim, comes in the validation
context as ``own_hosts``."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, ValidationInfo, WithJsonSchema

from hookhouse.api.models.base import Input, refused
from hookhouse.common.domain.custom_domains import (
    MAX_HOSTNAME_LENGTH,
    InvalidHostname,
    checked_hostname,
)


def hostname(value: Any, info: ValidationInfo) -> str:
    try:
        return checked_hostname(value, set((info.context or {}).get("own_hosts", ())))
    except InvalidHostname as exc:
        raise refused(str(exc)) from exc


Hostname = Annotated[
    str,
    BeforeValidator(hostname),
    WithJsonSchema({"type": "string", "minLength": 1, "maxLength": MAX_HOSTNAME_LENGTH}),
]


class CustomDomainInput(Input):
    hostname: Hostname
