"""Several processes per consumer stage in the local stack (``hookhouse up --workers N``).

Each of router, deliverer and sink runs in N processes, its *slots*; ingest and api stay
one each (they own the ports clients use).  Slot 0 is the process the stack always ran:
named after its service, on the service's own port.  Slot k (1 to N-1) is named
``<service>-<k>`` (its log, its line in ``pids.json``) and serves its health, readiness
and metrics on ``worker_port + 3(k-1) + i``, where i is the stage's place in
``WORKER_SERVICES``: with the default 7710, router-1 7710, deliverer-1 7711, sink-1 7712,
router-2 7713 … .  Every slot joins its consumer groups as ``<service>-<k>`` (static
membership), so a restarted slot takes its own partitions back.  Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from hookhouse.common.settings import Settings

WORKER_SERVICES = ("router", "deliverer", "sink")


@dataclass(frozen=True)
class Slot:
    service: str
    number: int  # 0 … workers - 1

    @property
    def name(self) -> str:
        """Its name in the supervisor, ``pids.json`` and the logs."""
        return self.service if self.number == 0 else f"{self.service}-{self.number}"

    @property
    def instance_id(self) -> str:
        """Its name in its consumer groups (``HOOKHOUSE_INSTANCE_ID``)."""
        return f"{self.service}-{self.number}"

    def port(self, settings: Settings) -> int:
        """Where it serves /healthz, /readyz and /metrics."""
        if self.number == 0:
            port: int = getattr(settings, f"{self.service}_port")
            return port
        place = WORKER_SERVICES.index(self.service)
        return settings.worker_port + len(WORKER_SERVICES) * (self.number - 1) + place


def slots(services: tuple[str, ...], workers: int) -> list[Slot]:
    """Every process of ``services``: one of each, N of each consumer stage."""
    return [
        Slot(service, number)
        for service in services
        for number in range(workers if service in WORKER_SERVICES else 1)
    ]


def slot_named(name: str, services: tuple[str, ...]) -> Slot | None:
    """The slot a supervisor's child name stands for (``router-1``), or ``None`` for a
    child that is no service's (``kafka-2``, ``clickhouse``)."""
    service, _, number = name.partition("-")
    if service not in services:
        return None
    if not number:
        return Slot(service, 0)
    if service in WORKER_SERVICES and number.isdigit() and int(number) > 0:
        return Slot(service, int(number))
    return None
