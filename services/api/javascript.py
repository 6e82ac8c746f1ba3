"""Transformation code run by the API (a test run, the load check of saved code, a
retry routed again): one V8 runtime, used from one thread, off the loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from hookhouse.api.fields import ApiError
from hookhouse.common.domain.message import Message, Transformed
from hookhouse.common.settings import Settings
from hookhouse.common.transformations import Limits, Runtime

T = TypeVar("T")


class JavaScript:
    def __init__(self, settings: Settings) -> None:
        self.runtime = Runtime(Limits.of(settings))
        self.thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="javascript")

    def transform(
        self, project_id: str, code: str, env: dict[str, str], message: Message
    ) -> Transformed:
        """Run the code; only on :attr:`thread` (from :meth:`run` or :meth:`off_loop`)."""
        return self.runtime.run(project_id, code, env, message)

    async def run(
        self, project_id: str, code: str, env: dict[str, str], message: Message
    ) -> Transformed:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self.thread, self.runtime.run, project_id, code, env, message
        )

    async def probe(self, project_id: str, code: str, env: dict[str, str]) -> None:
        """Code that does not even load is refused now rather than failing every event."""
        outcome = await self.run(project_id, code, env, Message({}, b"{}", "/", ""))
        if outcome.message is None and outcome.error.startswith("the code does not load"):
            raise ApiError(422, "UNPROCESSABLE_ENTITY", outcome.error)

    async def off_loop(self, work: Callable[[], T]) -> T:
        """Route on the runtime's thread: the transformations a route runs need it."""
        return await asyncio.get_running_loop().run_in_executor(self.thread, work)

    def close(self) -> None:
        self.thread.submit(self.runtime.close).result()
        self.thread.shutdown()
