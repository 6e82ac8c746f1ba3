"""The dashboard in headless Chromium (Debian's, driven by Playwright) against the whole
stack: what a user clicks, and what the stack then did.  Each main page is saved as a
screenshot in .hookhouse/artifacts/dashboard/ (CI keeps that folder)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    Page,
    Playwright,
    ViewportSize,
    expect,
    sync_playwright,
)

from hookhouse.stack.supervisor import read_env
from tests.e2e.running import Stack, api, connect, wait_for
from tests.receiver import Answer, Received, Receiver
from tests.stack import REPO

pytestmark = pytest.mark.e2e

ARTIFACTS = REPO / ".hookhouse" / "artifacts" / "dashboard"
CHROMIUM = os.environ.get("HOOKHOUSE_CHROMIUM", "/usr/bin/chromium")
# Without these, Chromium keeps dialling Google's hosts, which a closed network refuses.
QUIET = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LAPTOP: ViewportSize = {"width": 1280, "height": 860}
PHONE: ViewportSize = {"width": 390, "height": 844}
WAIT_MS = 60_000  # the stack stores what it did within seconds; a slow CI machine may lag
expect.set_options(timeout=WAIT_MS)


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists() and not shutil.which(CHROMIUM):
        pytest.fail(
            f"no Chromium at {CHROMIUM}: `make` installs Debian's chromium as root "
            "(apt-get install chromium), or set HOOKHOUSE_CHROMIUM to a Chromium binary"
        )
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    launched = playwright.chromium.launch(executable_path=CHROMIUM, args=QUIET)
    yield launched
    launched.close()


@pytest.fixture(scope="module")
def dashboard(stack: Stack) -> str:
    return f"{read_env(stack.home / 'stack.env')['HOOKHOUSE_API_URL']}/dashboard/"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=LAPTOP)
    opened = context.new_page()
    opened.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert not errors, f"the page threw: {errors}"


def key_of(stack: Stack) -> str:
    return read_env(stack.home / "stack.env")["HOOKHOUSE_API_KEY"]


def sign_in(page: Page, dashboard: str, key: str) -> None:
    page.goto(dashboard)
    page.fill("input[name=key]", key)
    page.click("button[type=submit]")
    expect(page.get_by_role("heading", name="Connections")).to_be_visible()


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def create_connection(page: Page, name: str, url: str) -> str:
    """Through the editor; answers the source's ingest URL as the page shows it."""
    page.click("text=New connection")
    page.fill("input[name=name]", name)
    page.fill("input[name=source_name]", f"{name}-source")
    page.fill("input[name=destination_name]", f"{name}-destination")
    page.fill("input[name=destination_url]", url)
    page.click("button[type=submit]")
    source = page.locator("article.source", has=page.get_by_role("heading", name=f"{name}-source"))
    expect(source.locator(f"[data-connection='{name}']")).to_be_visible()
    return source.locator("code.ingest-url").inner_text()


def delivered(receiver: Receiver, marker: str, count: int = 1) -> list[Received]:
    def got() -> list[Received]:
        found = [r for r in receiver.snapshot() if marker.encode() in r.body]
        return found if len(found) >= count else []

    return wait_for(got, 60)


def test_sign_in_create_send_open_and_retry(
    stack: Stack, receiver: Receiver, page: Page, dashboard: str
) -> None:
    page.goto(dashboard)
    page.fill("input[name=key]", "hh_not-a-key")
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_contain_text("not a key of any project")
    shot(page, "sign-in")

    sign_in(page, dashboard, key_of(stack))
    ingest_url = create_connection(page, "shop", f"{receiver.url}/hooks")
    shot(page, "connections")

    page.click("header >> text=Events")  # open before the webhook: it must appear live
    expect(page.locator("span.live.on")).to_be_visible()
    marker = uuid.uuid4().hex
    answer = httpx.post(ingest_url, json={"order": marker}, timeout=10)
    assert answer.status_code == 200, answer.text
    first = delivered(receiver, marker)[0]

    row = page.locator("table.events tbody tr").first
    expect(row).to_contain_text("shop", timeout=WAIT_MS)
    expect(row).to_contain_text("SUCCESSFUL", timeout=WAIT_MS)
    shot(page, "events")
    row.locator("a").first.click()
    expect(page.locator("h1")).to_contain_text(first.headers["x-hookhouse-event-id"])
    expect(page.locator(".data").first).to_contain_text(marker)  # the request as received
    expect(page.locator("[data-attempt='1']")).to_contain_text("HTTP 200")

    page.get_by_role("button", name="Retry", exact=True).click()
    expect(page.locator("[data-attempt='2']")).to_contain_text("MANUAL")
    shot(page, "event")
    expect(page.get_by_role("button", name="Mute")).to_have_count(0)  # nothing to come
    second = delivered(receiver, marker, 2)[1]
    assert second.headers["x-hookhouse-attempt-trigger"] == "MANUAL"
    assert second.headers["idempotency-key"] == first.headers["idempotency-key"]

    # The delivery header links to this very page.
    event_url = second.headers["x-hookhouse-event-url"]
    assert event_url.startswith(dashboard) and event_url.endswith(
        f"#/events/{first.headers['x-hookhouse-event-id']}"
    )
    page.goto("about:blank")
    page.goto(event_url)
    expect(page.locator("[data-attempt='2']")).to_be_visible()

    page.click("header >> text=Requests")
    page.fill("input[name=search_term]", marker)
    page.click("button:has-text('Search')")
    expect(page.locator("table.requests tbody tr")).to_have_count(1)
    shot(page, "requests")
    page.click("header >> text=Attempts")
    expect(page.locator("table.attempts tbody tr").first).to_be_visible()
    shot(page, "attempts")


def test_pause_holds_events_and_unpause_delivers_them(
    stack: Stack, receiver: Receiver, page: Page, dashboard: str
) -> None:
    sign_in(page, dashboard, key_of(stack))
    ingest_url = create_connection(page, "held", f"{receiver.url}/held")
    row = page.locator("[data-connection='held']")
    row.get_by_role("button", name="Pause").click()
    expect(row).to_contain_text("PAUSED")

    marker = uuid.uuid4().hex
    assert httpx.post(ingest_url, json={"held": marker}, timeout=10).status_code == 200
    row.get_by_role("link", name="Events").click()
    expect(page.locator("table.events tbody tr").first).to_contain_text("HOLD")
    assert not [r for r in receiver.snapshot() if marker.encode() in r.body]

    page.click("header >> text=Connections")
    row.get_by_role("button", name="Unpause").click()
    expect(row).to_contain_text("ACTIVE")
    assert delivered(receiver, marker)[0].headers["x-hookhouse-attempt-trigger"] == "UNPAUSE"


def test_the_editor_validates_filters_and_test_runs_transformations(
    stack: Stack, receiver: Receiver, page: Page, dashboard: str
) -> None:
    sign_in(page, dashboard, key_of(stack))
    ingest_url = create_connection(page, "edited", f"{receiver.url}/edited")
    page.locator("[data-connection='edited']").get_by_role("link", name="Edit").click()
    expect(page.locator("input[name=name]")).to_have_value("edited")

    page.check("input[name=filter]")
    page.fill("textarea[name=filter_body]", '{"type": ')
    expect(page.get_by_role("alert")).to_contain_text("The body filter is not valid JSON")
    expect(page.locator("button[type=submit]")).to_be_disabled()
    page.fill("textarea[name=filter_body]", '{"type": "order.created"}')
    expect(page.get_by_role("alert")).to_have_count(0)

    page.select_option("select[name=transform]", "new")
    page.fill("input[name=transformation_name]", "add-flag")
    page.fill(
        "textarea[name=code]",
        "addHandler('transform', (request, context) => {\n"
        "  console.log('flagging');\n"
        "  request.body.flag = context.env.FLAG;\n"
        "  return request;\n"
        "});",
    )
    page.fill("input[name=env]", '{"FLAG": "on"}')
    page.click("text=Test run")
    result = page.locator(".run-result")
    expect(result).to_contain_text('"flag": "on"')
    expect(result).to_contain_text("flagging")
    shot(page, "connection-editor")
    page.click("button[type=submit]")

    row = page.locator("[data-connection='edited']")
    expect(row).to_contain_text("filter on body · transform: add-flag")
    marker = uuid.uuid4().hex
    for kind in ("order.deleted", "order.created"):
        sent = httpx.post(ingest_url, json={"type": kind, "m": marker}, timeout=10)
        assert sent.status_code == 200
    got = delivered(receiver, marker)
    assert [json.loads(r.body) for r in got] == [
        {"type": "order.created", "m": marker, "flag": "on"}
    ]


def test_the_editor_backtests_rules_and_backfills_a_later_connection(
    stack: Stack, receiver: Receiver, page: Page, dashboard: str
) -> None:
    sign_in(page, dashboard, key_of(stack))
    ingest_url = create_connection(page, "tried", f"{receiver.url}/tried")
    marker = uuid.uuid4().hex
    for kind in ("a", "a", "b"):
        assert (
            httpx.post(ingest_url, json={"kind": kind, "m": marker}, timeout=10).status_code == 200
        )
    delivered(receiver, marker, 3)
    with api(stack) as client:
        source = client.get("/connections", params={"name": "tried"}).json()["models"][0]["source"]
        wait_for(
            lambda: client.get("/requests", params={"source_id": source["id"]}).json()["count"] == 3
        )

    page.locator("[data-connection='tried']").get_by_role("link", name="Edit").click()
    page.check("input[name=filter]")
    page.fill("textarea[name=filter_body]", '{"kind": "a"}')
    page.click("text=Backtest these rules")
    result = page.locator(".backtest-result")
    expect(result).to_contain_text("Of all 3 requests: 2 events, 1 filtered")
    shot(page, "backtest")

    # A connection made later on the same source gets those requests by a backfill.
    page.goto(f"{dashboard}#/connections/new")
    page.fill("input[name=name]", "late")
    page.select_option("select[name=source]", source["id"])
    page.fill("input[name=destination_name]", "late-destination")
    page.fill("input[name=destination_url]", f"{receiver.url}/late")
    page.click("button[type=submit]")
    page.locator("[data-connection='late']").get_by_role("link", name="Edit").click()
    page.fill("input[name=backfill_since]", "2000-01-01T00:00")
    page.click("text=Start backfill")
    expect(page.locator(".backfill-status")).to_contain_text("3 of 3 routed — done")
    late = [r for r in delivered(receiver, marker, 6) if r.path.startswith("/late")]
    assert len(late) == 3
    assert {r.headers["x-hookhouse-attempt-trigger"] for r in late} == {"BACKFILL"}


def test_bulk_retry_shows_its_plan_and_progress(
    stack: Stack, receiver: Receiver, page: Page, dashboard: str
) -> None:
    sign_in(page, dashboard, key_of(stack))
    ingest_url = create_connection(page, "bulk", f"{receiver.url}/bulk")
    marker = uuid.uuid4().hex
    for n in range(3):
        assert httpx.post(ingest_url, json={"bulk": marker, "n": n}, timeout=10).status_code == 200
    delivered(receiver, marker, 3)

    page.locator("[data-connection='bulk']").get_by_role("link", name="Events").click()
    rows = page.locator("table.events tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.filter(has_text="SUCCESSFUL")).to_have_count(3)  # stored, so they count
    page.click("text=Retry all matching…")
    expect(page.locator(".planned-count")).to_have_text("3")
    page.click("text=Start bulk retry")
    expect(page.locator(".bulk-status")).to_contain_text("3 of 3 retried — done")
    shot(page, "bulk-retry")
    retried = delivered(receiver, marker, 6)
    assert sum(r.headers["x-hookhouse-attempt-trigger"] == "BULK_RETRY" for r in retried) == 3


def test_issues_metrics_and_a_phone_screen(
    stack: Stack, receiver: Receiver, page: Page, dashboard: str
) -> None:
    sign_in(page, dashboard, key_of(stack))
    failing = Receiver(lambda _: Answer(status=503))
    with failing:
        ingest_url = create_connection(page, "broken", f"{failing.url}/down")
        assert httpx.post(ingest_url, json={"n": 1}, timeout=10).status_code == 200
        wait_for(lambda: failing.snapshot(), 60)
    page.click("header >> text=Issues")
    issue = page.locator("li.issue", has_text="broken")
    expect(issue).to_contain_text("HTTP 503")
    shot(page, "issues")
    issue.get_by_role("button", name="Acknowledge").click()
    expect(issue).to_have_count(0)
    page.get_by_role("button", name="acknowledged").click()
    expect(page.locator("li.issue", has_text="broken")).to_be_visible()

    page.click("header >> text=Metrics")
    for chart in ("requests", "events", "attempts", "error-rate", "latency"):
        expect(page.locator(f"[data-chart='{chart}'] canvas")).to_be_visible()
    page.select_option("select[aria-label='Split by']", "connection")
    expect(page.locator("[data-chart='events']")).to_contain_text("broken")
    shot(page, "metrics")

    page.set_viewport_size(PHONE)
    expect(page.locator("header nav")).to_be_hidden()
    page.get_by_role("button", name="Menu").click()
    page.click("header nav >> text=Events")
    expect(page.locator("header nav")).to_be_hidden()  # the menu closes on navigation
    expect(page.locator("table.events tbody tr").first).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the events list is {width}px wide on a phone"
    shot(page, "events-phone")


def test_mute_cancels_a_pending_retry_and_time_ranges_narrow_lists(
    stack: Stack, page: Page, dashboard: str
) -> None:
    failing = Receiver(lambda _: Answer(status=500))
    retry = {"type": "retry", "strategy": "linear", "interval": 600_000, "count": 5}
    with failing:
        made = connect(stack, failing, "muted", rules=[retry])
        assert httpx.post(made["source"]["url"], json={"n": 1}, timeout=10).status_code == 200
        wait_for(lambda: failing.snapshot(), 60)
    sign_in(page, dashboard, key_of(stack))
    page.goto(f"{dashboard}#/events?webhook_id={made['id']}")
    row = page.locator("table.events tbody tr").first
    expect(row).to_contain_text("BAD_RESPONSE")  # failed once, retried in 10 minutes
    expect(row).to_contain_text("QUEUED")
    row.locator("a").first.click()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Mute").click()
    expect(page.locator(".notice")).to_contain_text("Muted")
    expect(page.locator(".title .badge")).to_have_text("FAILED")
    expect(page.get_by_role("button", name="Mute")).to_have_count(0)

    page.goto(f"{dashboard}#/events?webhook_id={made['id']}")
    page.select_option("select[aria-label='Time range']", "1h")
    expect(page.locator("table.events tbody tr")).to_have_count(1)
    page.select_option("select[aria-label='Time range']", "custom")
    page.fill("input[aria-label=From]", "2020-01-01T00:00")
    page.locator("input[aria-label=From]").dispatch_event("change")
    page.fill("input[aria-label=To]", "2020-01-02T00:00")
    page.locator("input[aria-label=To]").dispatch_event("change")
    expect(page.locator(".empty")).to_contain_text("Nothing matches")
    assert "range=custom" in page.url and "from=2020-01-01T00%3A00" in page.url


def test_another_project_sees_nothing_and_sign_out_forgets_the_key(
    stack: Stack, page: Page, dashboard: str
) -> None:
    made = subprocess.run(
        [sys.executable, "-m", "hookhouse.cli", "project", "other-team"],
        env=stack.env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    found = re.search(r"API key (\S+)", made.stdout)
    assert found, made.stdout
    with api(stack) as client:
        event_id = client.get("/events", params={"limit": 1}).json()["models"][0]["id"]

    sign_in(page, dashboard, found.group(1))
    expect(page.locator(".empty")).to_contain_text("No connections yet")
    page.click("header >> text=Events")
    expect(page.locator(".empty")).to_contain_text("Nothing matches")
    page.goto(f"{dashboard}#/events/{event_id}")
    expect(page.get_by_role("alert")).to_contain_text("NOT_FOUND")
    shot(page, "other-project")

    page.click("text=Sign out")
    expect(page.locator("input[name=key]")).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 0
    page.goto(f"{dashboard}#/events")
    expect(page.locator("input[name=key]")).to_be_visible()
