"""What the API's handlers work with, made once when the app is built: the settings,
the config log (and the state it keeps), ClickHouse, the producer, the V8 runtime,
and the services made of those (resources, replays, retries, bulk retries, backfills).

Every handler takes it as its first argument, so a test can call one with a context
of its own making.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from hookhouse.api.backfill import Backfills
from hookhouse.api.backtest import Backtests
from hookhouse.api.bulk import BulkRetries
from hookhouse.api.javascript import JavaScript
from hookhouse.api.kinds import catalog
from hookhouse.api.producer import Producer
from hookhouse.api.queries import row_key
from hookhouse.api.replay import Replays
from hookhouse.api.resources import Kind, Resources
from hookhouse.api.retries import Retries
from hookhouse.api.store import Store
from hookhouse.common.configlog import ConfigLog
from hookhouse.common.domain.config import ConfigState
from hookhouse.common.domain.routing import transformer
from hookhouse.common.settings import Settings
from hookhouse.common.transformations import timed


@dataclass(frozen=True)
class Context:
    settings: Settings
    config: ConfigLog
    store: Store
    producer: Producer
    javascript: JavaScript
    resources: Resources
    kinds: dict[str, Kind]  # the configuration resources served, by config kind
    replays: Replays
    retries: Retries
    bulk: BulkRetries
    backtests: Backtests
    backfills: Backfills

    @property
    def state(self) -> ConfigState:
        return self.config.state

    @classmethod
    def of(cls, settings: Settings) -> Context:
        """The context of an API process; nothing connects until the app starts."""
        config = ConfigLog(settings)
        store = Store(settings)
        producer = Producer(settings)
        javascript = JavaScript(settings)
        resources = Resources(config)
        transform = transformer(config.state, timed(javascript.transform))
        replays = Replays(config.state, transform, javascript.off_loop, producer.send)
        retries = Retries(config, store, producer, replays)
        bulk = BulkRetries(
            resources,
            store.run,
            {
                "events": retries.requeue_batch,
                "requests": functools.partial(retries.replay_batch, one_connection=False),
                "ignored_events": functools.partial(retries.replay_batch, one_connection=True),
            },
            row_key,
        )
        backfills = Backfills(settings, bulk, store, replays)
        request_exists = functools.partial(store.has, "requests")
        kinds = catalog(resources, settings.ingest_url, javascript.probe, request_exists)
        backtests = Backtests(store, javascript, config.state)
        return cls(
            settings,
            config,
            store,
            producer,
            javascript,
            resources,
            kinds,
            replays,
            retries,
            bulk,
            backtests,
            backfills,
        )
