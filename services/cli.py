"""The ``hookhouse`` command: every service, the local stack, and the operator tools."""

from __future__ import annotations

import argparse
import subprocess
import sys

from hookhouse.common.settings import MAX_LOCAL_BROKERS, MAX_LOCAL_WORKERS, load

SERVICES = ("ingest", "router", "deliverer", "sink", "api")


def run_service(name: str) -> None:
    if name == "ingest":
        from hookhouse.ingest.app import main
    elif name == "router":
        from hookhouse.router.app import main
    elif name == "deliverer":
        from hookhouse.deliverer.service import main
    elif name == "sink":
        from hookhouse.sink.service import main
    else:
        from hookhouse.api.app import main
    main()


def count_option(
    parser: argparse.ArgumentParser, flag: str, most: int, help: str, default: int | None = None
) -> None:
    """An option taking a whole number from 1 to ``most``; argparse refuses any other."""
    parser.add_argument(
        flag, type=int, choices=range(1, most + 1), metavar="N", default=default, help=help
    )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hookhouse", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start Kafka, ClickHouse and every service in the foreground")
    up.add_argument(
        "--infra-only",
        action="store_true",
        help="start only Kafka and ClickHouse (what the test suite needs)",
    )
    count_option(
        up,
        "--brokers",
        MAX_LOCAL_BROKERS,
        f"run N local Kafka brokers (1 to {MAX_LOCAL_BROKERS}); with 3 or more, topics "
        "are replicated 3 times with min.insync.replicas 2 (the setting "
        "HOOKHOUSE_KAFKA_BROKERS does the same)",
    )
    count_option(
        up,
        "--workers",
        MAX_LOCAL_WORKERS,
        f"run N processes (1 to {MAX_LOCAL_WORKERS}) each of router, deliverer and sink, "
        "each restarted on its own; the second and later ones listen from "
        "HOOKHOUSE_WORKER_PORT (7710) on, three ports per process (the setting "
        "HOOKHOUSE_WORKERS does the same)",
    )
    up.add_argument(
        "--prometheus",
        action="store_true",
        help="also run Prometheus (Debian's `prometheus`) scraping the stack, with its alerts "
        "(the setting HOOKHOUSE_PROMETHEUS=true does the same)",
    )
    count_option(
        up,
        "--clickhouse-shards",
        6,
        "run N embedded ClickHouse servers as the N shards of one cluster (ports 10 "
        "apart from HOOKHOUSE_CLICKHOUSE_HTTP_PORT and _TCP_PORT); the services use the "
        "cluster layout (docs/clickhouse.md)",
        default=1,
    )
    sub.add_parser("status", help="show what the local stack is running and whether it is ready")
    logs = sub.add_parser("logs", help="show (and with -f follow) the local stack's logs")
    logs.add_argument("service", nargs="?", help="one of: kafka clickhouse " + " ".join(SERVICES))
    logs.add_argument("-f", "--follow", action="store_true")
    logs.add_argument("-n", "--lines", type=int, default=50)
    migrate = sub.add_parser("migrate", help="apply ClickHouse migrations")
    migrate.add_argument("--target", type=int, help="migrate up or down to this version")
    sub.add_parser("topics", help="create the Kafka topics that are missing")
    sub.add_parser(
        "init",
        help="migrate, create topics, and create the first project and API key (once)",
    )
    project = sub.add_parser(
        "project",
        help="create a project (a tenant) if missing and print a new API key for it",
    )
    project.add_argument("name")
    sub.add_parser(
        "bench",
        add_help=False,  # --help is the suite's
        help="run every benchmark against a local Kafka and ClickHouse and write "
        "BENCHMARKS.md with plots (a checkout's bench/; --only STEPS, --quick)",
    )
    for name in SERVICES:
        sub.add_parser(name, help=f"run the {name} service")
    return p


def main(argv: list[str] | None = None) -> None:
    p = parser()
    args, rest = p.parse_known_args(argv)
    if rest and args.command != "bench":  # the suite's own options pass through
        p.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command in SERVICES:
        run_service(args.command)
        return
    if args.command == "bench":
        from hookhouse.stack.kafka_broker import REPO

        # The benchmarks live in the checkout, beside the package, not inside it.
        suite = [sys.executable, "-m", "bench.suite", *rest]
        sys.exit(subprocess.run(suite, cwd=REPO, check=False).returncode)
    # The count decides defaults (the bootstrap list, replication): read with the rest.
    settings = load(kafka_brokers=args.brokers) if getattr(args, "brokers", None) else load()
    if args.command == "up":
        from hookhouse.stack.supervisor import up

        if args.prometheus:
            settings = settings.model_copy(update={"prometheus": True})
        if args.workers:
            settings = settings.model_copy(update={"workers": args.workers})
        sys.exit(up(settings, args.infra_only, args.clickhouse_shards))
    if args.command == "status":
        from hookhouse.stack.supervisor import status

        sys.exit(status(settings))
    if args.command == "logs":
        from hookhouse.stack.supervisor import logs

        sys.exit(logs(settings, args.service, args.follow, args.lines))
    if args.command == "migrate":
        from hookhouse.common.clickhouse import migrate as apply

        for line in apply(settings, args.target) or ["nothing to do"]:
            print(line)
        return
    if args.command == "project":
        from hookhouse.stack.supervisor import add_project

        sys.exit(add_project(settings, args.name))
    if args.command == "init":
        from hookhouse.stack.supervisor import initialize

        sys.exit(initialize(settings))
    if args.command == "topics":
        from hookhouse.common.kafka import ensure_topics

        created = ensure_topics(settings)
        print(f"created {len(created)} topics: {', '.join(created) or '-'}")


if __name__ == "__main__":
    main()
