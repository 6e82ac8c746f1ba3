"""JavaScript transformations in V8: the Hookdeck contract, and every way code can fail."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest

from hookhouse.common.domain.message import Message
from hookhouse.common.transformations import BATCH_BYTES, Job, Limits, Runtime, _chunks

MESSAGE = Message(
    {"content-type": "application/json", "content-length": "15"},
    b'{"amount": 100}',
    "/hooks",
    "a=1&b=2&b=3",
)


@pytest.fixture(scope="module")
def runtime() -> Iterator[Runtime]:
    made = Runtime(Limits(cpu_seconds=0.3, memory_bytes=32 * 1024 * 1024, output_bytes=100_000))
    yield made
    made.close()


def test_the_handler_sees_the_request_and_its_result_is_delivered(runtime: Runtime) -> None:
    code = """
    addHandler('transform', (request, context) => {
      console.log('query', request.parsed_query, request.query, request.path);
      request.body = {cents: request.body.amount * 100, tenant: context.env.TENANT};
      request.headers['x-tenant'] = process.env.TENANT;
      request.path = request.path + '/v2';
      return request;
    });
    """
    outcome = runtime.run("tm_1", code, {"TENANT": "acme"}, MESSAGE)
    assert outcome.message is not None, outcome.error
    assert orjson.loads(outcome.message.body) == {"cents": 10000, "tenant": "acme"}
    assert outcome.message.headers == {"content-type": "application/json", "x-tenant": "acme"}
    assert outcome.message.path == "/hooks/v2"
    assert outcome.logs == ['query {"a":"1","b":["2","3"]} a=1&b=2&b=3 /hooks']


def test_a_text_body_stays_text(runtime: Runtime) -> None:
    code = "addHandler('transform', (r) => { r.body = r.body.toUpperCase(); return r; })"
    outcome = runtime.run("tm_1", code, {}, Message({}, b"plain text", "/", ""))
    assert outcome.message is not None and outcome.message.body == b"PLAIN TEXT"


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (
            "addHandler('transform', () => { throw new TypeError('bad input') })",
            "TypeError: bad input",
        ),
        ("addHandler('transform', () => { while (true) {} })", "ran longer than 0.3 s"),
        (
            "addHandler('transform', (r) => { r.body = 'x'.repeat(200000); return r })",
            "larger than",
        ),
        ("this is not JavaScript", "does not load"),
        ("// no handler", "does not call addHandler"),
        ("addHandler('transform', () => 42)", "must return the request object"),
        ("addHandler('transform', async (r) => r)", "returned a Promise"),
        (
            "addHandler('transform', (r) => { r.headers = {a: {b: 1}}; return r })",
            "must be a string",
        ),
    ],
)
def test_failures_fail_the_event_with_a_readable_error(
    runtime: Runtime, code: str, error: str
) -> None:
    outcome = runtime.run("tm_1", code, {}, MESSAGE)
    assert outcome.message is None
    assert error in outcome.error


def test_console_lines_survive_a_failure_and_the_runtime_keeps_working(runtime: Runtime) -> None:
    failing = "addHandler('transform', (r) => { console.warn('about to fail'); null.x })"
    outcome = runtime.run("tm_1", failing, {}, MESSAGE)
    assert outcome.message is None and outcome.logs == ["warn: about to fail"]
    looping = "addHandler('transform', () => { while (true) {} })"
    assert runtime.run("tm_1", looping, {}, MESSAGE).message is None
    identity = "addHandler('transform', (r) => r)"
    assert runtime.run("tm_1", identity, {}, MESSAGE).message is not None


def test_memory_is_bounded() -> None:
    # Its own runtime with a generous CPU limit, so a busy machine cannot turn the
    # memory failure into a timeout.
    runtime = Runtime(Limits(cpu_seconds=30, memory_bytes=32 * 1024 * 1024))
    try:
        hog = (
            "addHandler('transform', () => { const a = []; while (true) a.push('x'.repeat(1e4)) })"
        )
        outcome = runtime.run("tm_1", hog, {}, MESSAGE)
        assert outcome.message is None and "used more than 32 MiB" in outcome.error
    finally:
        runtime.close()


def test_a_batch_gives_each_request_its_own_outcome_console_and_limit(runtime: Runtime) -> None:
    picky = """
    addHandler('transform', (r) => {
      console.log('saw', r.body.n);
      if (r.body.n === 2) throw new Error('two is not allowed');
      if (r.body.n === 4) while (true) {}
      if (r.body.n === 5) return 5;
      r.body.n = r.body.n * 10;
      return r;
    });
    """
    jobs: list[Job] = [
        ("tm_1", picky, {}, Message({}, orjson.dumps({"n": n}), "/", "")) for n in range(7)
    ]
    identity = "addHandler('transform', (r) => r)"
    jobs.insert(3, ("tm_1", identity, {}, MESSAGE))  # another code in the same call
    outcomes = runtime.run_many(jobs)
    bodies = [orjson.loads(o.message.body) if o.message else o.error for o in outcomes]
    assert bodies[0:2] == [{"n": 0}, {"n": 10}]
    assert "two is not allowed" in bodies[2]
    assert bodies[3] == {"amount": 100}
    assert bodies[4] == {"n": 30}
    assert "ran longer than 0.3 s" in bodies[5]  # only the looping one fails for it
    assert "must return the request object" in bodies[6]
    assert bodies[7] == {"n": 60}
    assert [o.logs for o in outcomes[:3]] == [["saw 0"], ["saw 1"], ["saw 2"]]
    assert outcomes[3].logs == []


def test_batches_are_bounded_in_requests_and_bytes() -> None:
    small = Message({}, b"x", "/", "")
    big = Message({}, b"x" * (BATCH_BYTES - 10), "/", "")
    assert [len(c) for c in _chunks(list(range(450)), [small] * 450)] == [200, 200, 50]
    assert _chunks([0, 1, 2, 3], [small, big, small, big]) == [[0, 1, 2], [3]]
    assert _chunks([7], [Message({}, b"x" * (2 * BATCH_BYTES), "/", "")]) == [[7]]
