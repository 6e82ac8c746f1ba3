"""JavaScript transformations in V8 (mini-racer), with Hookdeck's contract.

The code registers a handler, ``addHandler('transform', (request, context) => request)``.
The request has ``headers``, ``body`` (parsed JSON, or the text when it is not JSON),
``query`` (the query string), ``parsed_query`` and ``path``; what the handler returns
is what the destination gets.  ``context.env`` and ``process.env`` hold the
transformation's environment variables.  ``console.log`` and friends are captured as
the execution's log lines.

Each (project, code, env) gets its own V8 context (``sandbox``), made once and kept
(most recently used first): a context never serves two projects, so no project sees
another's globals.  A call is bounded in CPU time, promise jobs included, and in memory,
ArrayBuffers included, and a context that hit either limit is closed, never reused.
Every failure — syntax error, exception, timeout, memory, a returned value of the wrong
shape, an oversized result — is a failed transformation for that one event, with the
error and the console lines, never a failed router.
"""

from __future__ import annotations

import json
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import orjson

from hookhouse.common.domain.message import Message, Transformed, body_bytes
from hookhouse.common.domain.routing import RunCode
from hookhouse.common.sandbox import CallbackLoop, CodeFailed, LimitHit, Sandbox
from hookhouse.common.settings import Settings

# A batch holds at most this many requests and about this many bytes of them.
BATCH_REQUESTS = 200
BATCH_BYTES = 1024 * 1024

Job = tuple[str, str, dict[str, str], Message]  # (project id, code, env, message)
Key = tuple[str, str, str]  # (project id, code, env as JSON)


def timed(
    run: RunCode,
    observe: Callable[[Transformed, float], None] = lambda outcome, seconds: None,
) -> RunCode:
    """``run``, timed: each outcome carries its milliseconds, and ``observe`` sees it
    with its seconds (the domain reads no clock)."""

    def timed_run(project_id: str, code: str, env: dict[str, str], message: Message) -> Transformed:
        started = time.perf_counter()
        outcome = run(project_id, code, env, message)
        took = time.perf_counter() - started
        observe(outcome, took)
        return replace(outcome, duration_ms=int(took * 1000))

    return timed_run


class TransformationError(Exception):
    """The code or its result is unusable; the message is shown to the user."""


@dataclass
class Limits:
    cpu_seconds: float = 1.0
    memory_bytes: int = 64 * 1024 * 1024
    output_bytes: int = 5 * 1024 * 1024
    contexts: int = 64
    # All contexts together: each may hold up to memory_bytes, and one project can make
    # as many as it has codes.  Eight contexts at their limit, by default.
    total_memory_bytes: int = 8 * 64 * 1024 * 1024

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(
            cpu_seconds=settings.transformation_cpu_seconds,
            memory_bytes=settings.transformation_memory_mb * 1024 * 1024,
            output_bytes=2 * settings.max_body_bytes,
            total_memory_bytes=8 * settings.transformation_memory_mb * 1024 * 1024,
        )


class Runtime:
    """Runs transformation code; one instance per process, used from one thread."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._contexts: OrderedDict[Key, Sandbox] = OrderedDict()
        self._broken: dict[Key, str] = {}  # code that does not even load
        self._callbacks: CallbackLoop | None = None  # started with the first context

    def run(self, project_id: str, code: str, env: dict[str, str], message: Message) -> Transformed:
        return self.run_many([(project_id, code, env, message)])[0]

    def run_many(self, jobs: list[Job]) -> list[Transformed]:
        """The outcome of each job, in order.  Jobs of the same project, code and
        environment run in batches, one call each, bounded together by the limits; a
        batch that hits the CPU or memory limit runs again one job at a time, so that
        only the job that loops or allocates fails."""
        outcomes: dict[int, Transformed] = {}
        groups: dict[Key, list[int]] = {}
        for index, (project_id, code, env, _) in enumerate(jobs):
            if not project_id:  # a context is a project's: never one for no project
                outcomes[index] = Transformed(None, "the transformation belongs to no project")
                continue
            key = (project_id, code, orjson.dumps(env, option=orjson.OPT_SORT_KEYS).decode())
            groups.setdefault(key, []).append(index)
        for key, indexes in groups.items():
            for chunk in _chunks(indexes, [jobs[i][3] for i in indexes]):
                messages = [jobs[i][3] for i in chunk]
                results = self._batch(key, messages)
                if isinstance(results, Transformed):  # a limit was hit: by which job?
                    results = (
                        [results]
                        if len(messages) == 1
                        else [self._alone(key, message) for message in messages]
                    )
                for index, outcome in zip(chunk, results, strict=True):
                    outcomes[index] = outcome
        return [outcomes[index] for index in range(len(jobs))]

    def _alone(self, key: Key, message: Message) -> Transformed:
        ran = self._batch(key, [message])
        return ran if isinstance(ran, Transformed) else ran[0]

    def _batch(self, key: Key, messages: list[Message]) -> list[Transformed] | Transformed:
        """One call over ``messages``: an outcome for each, or, when the batch hit the CPU
        or memory limit, one failure saying which (a failure for each when the code is
        unusable)."""
        try:
            requests = orjson.dumps([m.as_request() for m in messages]).decode()
        except orjson.JSONEncodeError as exc:  # JSON that orjson reads (1,024 levels) but
            # cannot write (254): that request's failure (run_many tries each alone)
            return Transformed(None, f"the request cannot be given to a transformation: {exc}")
        try:
            context = self._context(key)
            raw = context.call(f"__run({json.dumps(requests)})")
        except LimitHit as exc:
            self._drop(key)
            return Transformed(None, str(exc))
        except CodeFailed as exc:
            self._drop(key)
            return [Transformed(None, str(exc)) for _ in messages]
        except TransformationError as exc:
            return [Transformed(None, str(exc)) for _ in messages]
        results: list[Any] = []
        try:
            answer: Any = orjson.loads(raw) if isinstance(raw, str) else [None]
            status, *results = answer
            overran = status["overran"]  # written by __run itself, past any toJSON
        except (ValueError, TypeError, KeyError):
            overran = None
        if overran is True:
            self._drop(key)
            return Transformed(None, context.memory_error())
        if overran is not False or len(results) != len(messages):
            self._drop(key)  # the code bent __run's output (a toJSON, say): not its own
            return [Transformed(None, "the transformation returned no result") for _ in messages]
        context.held_bytes = int(status.get("held") or 0)
        self._fit(key)
        if not all(isinstance(result, dict) for result in results):
            return [Transformed(None, "the transformation returned no result") for _ in messages]
        return [_outcome(r, m) for r, m in zip(results, messages, strict=True)]

    def _context(self, key: Key) -> Sandbox:
        context = self._contexts.get(key)
        if context is not None:
            self._contexts.move_to_end(key)
            return context
        if key in self._broken:
            raise TransformationError(self._broken[key])
        if self._callbacks is None:
            self._callbacks = CallbackLoop()
        limits = self.limits
        context = Sandbox(
            self._callbacks,
            json.loads(key[2]),
            limits.cpu_seconds,
            limits.memory_bytes,
            limits.output_bytes,
        )
        try:
            context.call(key[1])
        except (LimitHit, CodeFailed) as exc:
            context.close()
            if len(self._broken) > limits.contexts:
                self._broken.clear()
            self._broken[key] = f"the code does not load: {exc}"
            raise TransformationError(self._broken[key]) from exc
        self._contexts[key] = context
        while len(self._contexts) > limits.contexts:
            _, oldest = self._contexts.popitem(last=False)
            oldest.close()
        return context

    def _fit(self, key: Key) -> None:
        """Close the least recently used contexts while all of them hold more than the
        total limit: each may hold up to the per-context limit, and one project can make
        as many contexts as it has codes."""
        total = sum(c.heap_bytes + c.held_bytes for c in self._contexts.values())
        while total > self.limits.total_memory_bytes and len(self._contexts) > 1:
            oldest, context = next(iter(self._contexts.items()))
            if oldest == key:  # the one that just ran is the most recent: never reached
                break
            del self._contexts[oldest]
            total -= context.heap_bytes + context.held_bytes
            context.close()

    def close(self) -> None:
        while self._contexts:
            self._contexts.popitem()[1].close()
        if self._callbacks is not None:
            self._callbacks.close()
            self._callbacks = None

    def _drop(self, key: Key) -> None:
        """Close a context that hit a limit or misbehaved: whatever it still runs is
        terminated, and the next call on its key gets a fresh one."""
        context = self._contexts.pop(key, None)
        if context is not None:
            context.close()


def _chunks(indexes: list[int], messages: list[Message]) -> list[list[int]]:
    """``indexes`` in runs of at most BATCH_REQUESTS and about BATCH_BYTES of bodies."""
    chunks: list[list[int]] = [[]]
    size = 0
    for index, message in zip(indexes, messages, strict=True):
        if chunks[-1] and (
            len(chunks[-1]) >= BATCH_REQUESTS or size + len(message.body) > BATCH_BYTES
        ):
            chunks.append([])
            size = 0
        chunks[-1].append(index)
        size += len(message.body)
    return chunks


def _outcome(result: dict[str, Any], before: Message) -> Transformed:
    """One request's outcome as the batch call reported it."""
    given, ms = result.get("logs"), result.get("ms")
    logs = [str(line) for line in given] if isinstance(given, list) else []
    took = int(ms) if isinstance(ms, int | float) else 0
    if not result.get("ok"):
        return Transformed(None, str(result.get("error")), logs, took)
    try:
        return Transformed(_message(result.get("request"), before), "", logs, took)
    except TransformationError as exc:
        return Transformed(None, str(exc), logs, took)


def _message(out: Any, before: Message) -> Message:
    """The handler's return value as a message, or TransformationError saying what is wrong."""
    if not isinstance(out, dict):
        raise TransformationError("the transform handler must return the request object")
    headers = out.get("headers", before.headers)
    if not isinstance(headers, dict):
        raise TransformationError("request.headers must be an object")
    clean: dict[str, str] = {}
    for name, value in headers.items():
        if isinstance(value, dict | list):
            raise TransformationError(
                f"header {name!r} must be a string, not {type(value).__name__}"
            )
        if value is None:
            continue
        if name.lower() != "content-length":  # the body may have changed size
            clean[name] = value if isinstance(value, str) else json.dumps(value)
    data = body_bytes(out.get("body"))
    path, query = out.get("path", before.path), out.get("query", before.query)
    if not isinstance(path, str) or not isinstance(query, str):
        raise TransformationError("request.path and request.query must be strings")
    return Message(clean, data, path, query)
