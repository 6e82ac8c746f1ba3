"""JavaScript transformations in V8 (mini-racer), with Hookdeck's contract.

The code registers a handler, ``addHandler('transform', (request, context) => request)``.
The request has ``headers``, ``body`` (parsed JSON, or the text when it is not JSON),
``query`` (the query string), ``parsed_query`` and ``path``; what the handler returns
is what the destination gets.  ``context.env`` and ``process.env`` hold the
transformation's environment variables.  ``console.log`` and friends are captured as
the execution's log lines.

Each (code, env) gets its own V8 context, made once and kept (most recently used
first); a run is bounded in CPU time and in memory, and a context that hit either limit
is thrown away.  Every failure — syntax error, exception, timeout, memory, a returned
value of the wrong shape, an oversized result — is a failed transformation for that
one event, with the error and the console lines, never a failed router.
"""

from __future__ import annotations

import json
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any

import orjson
from py_mini_racer import MiniRacer
from py_mini_racer._exc import JSOOMException, JSTimeoutException, MiniRacerBaseException

from hookhouse.common.message import Message, Transformed, body_bytes
from hookhouse.common.settings import Settings

MAX_LOG_LINES = 100
MAX_LOG_LINE = 2_000

_PRELUDE = """
var __handlers = {};
var __logs = [];
function addHandler(name, fn) { __handlers[name] = fn; }
function __log(level) {
  return function () {
    if (__logs.length >= %(max_lines)d) return;
    var parts = [];
    for (var i = 0; i < arguments.length; i++) {
      var a = arguments[i];
      if (typeof a === 'string') { parts.push(a); continue; }
      try { parts.push(JSON.stringify(a)); } catch (e) { parts.push(String(a)); }
    }
    __logs.push((level === 'log' ? '' : level + ': ') + parts.join(' ').slice(0, %(max_line)d));
  };
}
var console = {log: __log('log'), info: __log('info'), warn: __log('warn'),
               error: __log('error'), debug: __log('debug')};
var process = {env: %(env)s};
"""

# Runs the handler on every request of a JSON array, each in its own try, with its own
# console lines and milliseconds; answers a JSON array of one outcome per request.  One
# eval per batch: a mini-racer eval costs about 0.3 ms whatever it runs, the handler
# itself some microseconds.
_CALL = """(function () {
  var requests = JSON.parse(%(requests)s);
  var handler = __handlers.transform;
  var out = [];
  for (var i = 0; i < requests.length; i++) {
    __logs = [];
    var started = Date.now();
    var item;
    try {
      if (typeof handler !== 'function') {
        throw new Error("the code does not call " +
                        "addHandler('transform', (request, context) => ...)");
      }
      var result = handler(requests[i], {env: process.env});
      if (result && typeof result.then === 'function') {
        throw new Error('the transform handler returned a Promise; it must return the request');
      }
      item = {ok: true, request: result === undefined ? null : result, logs: __logs};
    } catch (e) {
      item = {ok: false, error: String(e && e.stack ? e.stack : e), logs: __logs};
    }
    item.ms = Date.now() - started;
    var text;
    try {
      text = JSON.stringify(item);
    } catch (e) {
      text = JSON.stringify({ok: false, logs: __logs, ms: item.ms,
                             error: 'the returned request is not JSON: ' + String(e)});
    }
    if (text.length > %(max_output)d) {
      text = JSON.stringify({ok: false, logs: __logs, ms: item.ms,
                             error: 'the result is larger than %(max_output)d bytes'});
    }
    out.push(text);
  }
  return '[' + out.join(',') + ']';
})()"""

# A batch holds at most this many requests and about this many bytes of them.
BATCH_REQUESTS = 200
BATCH_BYTES = 1024 * 1024

Job = tuple[str, dict[str, str], Message]  # (code, env, message)


class TransformationError(Exception):
    """The code or its result is unusable; the message is shown to the user."""


@dataclass
class Limits:
    cpu_seconds: float = 1.0
    memory_bytes: int = 64 * 1024 * 1024
    output_bytes: int = 5 * 1024 * 1024
    contexts: int = 64

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(
            cpu_seconds=settings.transformation_cpu_seconds,
            memory_bytes=settings.transformation_memory_mb * 1024 * 1024,
            output_bytes=2 * settings.max_body_bytes,
        )


class Runtime:
    """Runs transformation code; one instance per process, used from one thread."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._contexts: OrderedDict[tuple[str, str], MiniRacer] = OrderedDict()
        self._broken: dict[tuple[str, str], str] = {}  # code that does not even load
        self._retired: deque[MiniRacer] = deque()

    def run(self, code: str, env: dict[str, str], message: Message) -> Transformed:
        return self.run_many([(code, env, message)])[0]

    def run_many(self, jobs: list[Job]) -> list[Transformed]:
        """The outcome of each job, in order.  Jobs of the same code and environment run
        in batches, one eval each, bounded together by the CPU limit; a batch that hits
        the CPU or memory limit runs again one job at a time, so that only the job that
        loops or allocates fails."""
        outcomes: dict[int, Transformed] = {}
        groups: dict[tuple[str, str], list[int]] = {}
        for index, (code, env, _) in enumerate(jobs):
            key = (code, orjson.dumps(env, option=orjson.OPT_SORT_KEYS).decode())
            groups.setdefault(key, []).append(index)
        for key, indexes in groups.items():
            for chunk in _chunks(indexes, [jobs[i][2] for i in indexes]):
                messages = [jobs[i][2] for i in chunk]
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

    def _alone(self, key: tuple[str, str], message: Message) -> Transformed:
        ran = self._batch(key, [message])
        return ran if isinstance(ran, Transformed) else ran[0]

    def _batch(
        self, key: tuple[str, str], messages: list[Message]
    ) -> list[Transformed] | Transformed:
        """One eval over ``messages``: an outcome for each, or, when the batch hit the CPU
        or memory limit, one failure saying which (a failure for each when the code is
        unusable)."""
        requests = orjson.dumps([m.as_request() for m in messages]).decode()
        try:
            context = self._context(key)
            raw = context.eval(
                _CALL % {"requests": json.dumps(requests), "max_output": self.limits.output_bytes},
                timeout_sec=self.limits.cpu_seconds,
            )
        except JSTimeoutException:
            self._drop(key)
            seconds = self.limits.cpu_seconds
            return Transformed(None, f"the transformation ran longer than {seconds:g} s")
        except JSOOMException:
            self._drop(key)
            mib = self.limits.memory_bytes // 2**20
            return Transformed(None, f"the transformation used more than {mib} MiB")
        except (MiniRacerBaseException, TransformationError) as exc:
            self._drop(key)
            return [Transformed(None, str(exc) or type(exc).__name__) for _ in messages]
        if not isinstance(raw, str):
            return [Transformed(None, "the transformation returned no result") for _ in messages]
        return [
            _outcome(result, message)
            for result, message in zip(orjson.loads(raw), messages, strict=True)
        ]

    def _context(self, key: tuple[str, str]) -> MiniRacer:
        context = self._contexts.get(key)
        if context is not None:
            self._contexts.move_to_end(key)
            return context
        if key in self._broken:
            raise TransformationError(self._broken[key])
        context = MiniRacer()
        context.set_hard_memory_limit(self.limits.memory_bytes)
        prelude = _PRELUDE % {
            "max_lines": MAX_LOG_LINES,
            "max_line": MAX_LOG_LINE,
            "env": json.dumps(json.loads(key[1])),
        }
        try:
            context.eval(prelude)
            context.eval(key[0], timeout_sec=self.limits.cpu_seconds)
        except MiniRacerBaseException as exc:
            context.close()
            if len(self._broken) > self.limits.contexts:
                self._broken.clear()
            self._broken[key] = f"the code does not load: {exc}"
            raise TransformationError(self._broken[key]) from exc
        self._contexts[key] = context
        while len(self._contexts) > self.limits.contexts:
            _, oldest = self._contexts.popitem(last=False)
            oldest.close()
        return context

    def close(self) -> None:
        while self._contexts:
            self._contexts.popitem()[1].close()
        while self._retired:
            self._retired.popleft().close()

    def _drop(self, key: tuple[str, str]) -> None:
        """Stop using a context that hit a limit.  It is closed a few drops later: V8
        still reports the interrupted run back to the context's loop for a moment, and
        closing at once made that report land on a closed loop."""
        context = self._contexts.pop(key, None)
        if context is not None:
            self._retired.append(context)
        while len(self._retired) > 4:
            self._retired.popleft().close()


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
    logs = [str(line) for line in result.get("logs", [])]
    took = int(result.get("ms", 0))
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
