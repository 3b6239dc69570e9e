"""API faults: retried within the wall-clock budget, then EngineFailed (the session falls back)."""

from __future__ import annotations

import time

import pytest

from claude_fixtures import CLASSIFY, FakeTools, answer_json, brief
from fake_anthropic import (  # noqa: F401
    FAKE_KEY,
    FakeAnthropic,
    Turn,
    broken_stream,
    closed_port,
    dropped_stream,
    error,
    fake_anthropic_fixture,
    overloaded,
    text,
)
from incident.engines.base import EngineFailed
from incident.engines.claude import ClaudeEngine
from incident.phases import PHASES


def run(fake: FakeAnthropic, *, base_url: str | None = None, **kw):
    kw.setdefault("budget_seconds", 4.0)
    eng = ClaudeEngine(model="claude-sonnet-5-5", api_key=FAKE_KEY, base_url=base_url or fake.base_url, **kw)
    return eng, eng.run_phase(PHASES["classify"], brief(), "p", FakeTools().toolbox())


@pytest.mark.parametrize(
    "fault",
    [
        error(429, "rate_limit_error", retry_after=0.3),
        error(500),
        error(503),
        overloaded(),
        broken_stream(),
        dropped_stream(),
        Turn(content=[], status=200, break_after=0, error_type="api_error"),
    ],
    ids=["429-retry-after", "500", "503", "529", "mid-stream-error", "dropped-stream", "error-first-event"],
)
def test_a_transient_fault_is_retried_and_the_phase_answers(fake_anthropic, fault):
    fake_anthropic.script(fault, text(answer_json(CLASSIFY)))
    _, ans = run(fake_anthropic)
    assert ans.output.severity == "SEV-2"
    assert len(fake_anthropic.bodies) == 2
    assert fake_anthropic.bodies[0] == fake_anthropic.bodies[1]  # the same redacted bytes again
    assert ans.usage.requests == 1


def test_retry_after_is_honoured(fake_anthropic):
    fake_anthropic.script(error(429, "rate_limit_error", retry_after=0.6), text(answer_json(CLASSIFY)))
    run(fake_anthropic)
    gap = fake_anthropic.requests[1].at - fake_anthropic.requests[0].at
    assert 0.55 <= gap < 2.0


def test_a_retry_after_beyond_the_budget_fails_at_once(fake_anthropic):
    fake_anthropic.script(error(429, "rate_limit_error", retry_after=3600))
    t = time.monotonic()
    with pytest.raises(EngineFailed, match=r"rate limited \(429\)"):
        run(fake_anthropic, budget_seconds=3)
    assert time.monotonic() - t < 1.5
    assert len(fake_anthropic.bodies) == 1


def test_mid_stream_error_shows_a_retry_notice_in_the_live_text(fake_anthropic):
    fake_anthropic.script(broken_stream("Partial thoughts", after=4), text(answer_json(CLASSIFY)))
    shown: list[str] = []
    run(fake_anthropic, on_text=shown.append)
    live = "".join(shown)
    assert live.index("Partial") < live.index("[stream interrupted; retrying]") < live.index('"severity"')


def test_a_timeout_is_retried(fake_anthropic):
    fake_anthropic.script(Turn(delay=3.0), text(answer_json(CLASSIFY)))
    t = time.monotonic()
    _, ans = run(fake_anthropic, request_timeout=0.5)
    assert ans.output.severity == "SEV-2"
    assert time.monotonic() - t < 2.5


def test_persistent_overload_fails_within_the_budget(fake_anthropic):
    fake_anthropic.default = overloaded()
    t = time.monotonic()
    with pytest.raises(EngineFailed, match=r"overloaded \(529\); gave up after \d+ attempt"):
        run(fake_anthropic, budget_seconds=2.0)
    elapsed = time.monotonic() - t
    assert 0.5 < elapsed < 3.0
    assert len(fake_anthropic.bodies) >= 2


def test_a_hanging_server_fails_within_the_budget(fake_anthropic):
    fake_anthropic.default = Turn(delay=30)
    t = time.monotonic()
    with pytest.raises(EngineFailed, match="timed out"):
        run(fake_anthropic, budget_seconds=1.5)
    assert time.monotonic() - t < 3.5


def test_connection_refused_fails_within_the_budget(fake_anthropic):
    t = time.monotonic()
    with pytest.raises(EngineFailed, match="cannot reach the API"):
        run(fake_anthropic, base_url=f"http://127.0.0.1:{closed_port()}", budget_seconds=1.5)
    assert time.monotonic() - t < 3.0


def test_after_one_phase_spent_its_budget_the_next_tries_once(fake_anthropic):
    fake_anthropic.default = overloaded()
    eng = ClaudeEngine(model="claude-sonnet-5-5", api_key=FAKE_KEY, base_url=fake_anthropic.base_url, budget_seconds=1.0)
    with pytest.raises(EngineFailed):
        eng.run_phase(PHASES["classify"], brief(), "p", FakeTools().toolbox())
    before = len(fake_anthropic.bodies)
    t = time.monotonic()
    with pytest.raises(EngineFailed):
        eng.run_phase(PHASES["classify"], brief(), "p", FakeTools().toolbox())
    assert len(fake_anthropic.bodies) == before + 1 and time.monotonic() - t < 1.0
    fake_anthropic.default = text(answer_json(CLASSIFY))  # the API is back: the engine is too
    assert eng.run_phase(PHASES["classify"], brief(), "p", FakeTools().toolbox()).output.severity == "SEV-2"


@pytest.mark.parametrize("status,kind,reason", [
    (401, "authentication_error", "API key was refused"),
    (403, "permission_error", "API key was refused"),
    (400, "invalid_request_error", "rejected the request"),
    (404, "not_found_error", "rejected the request"),
])
def test_a_request_error_is_not_retried(fake_anthropic, status, kind, reason):
    fake_anthropic.script(error(status, kind))
    with pytest.raises(EngineFailed, match=reason):
        run(fake_anthropic)
    assert len(fake_anthropic.bodies) == 1


def test_the_sdk_does_no_retries_of_its_own(fake_anthropic):
    fake_anthropic.script(error(500), error(500), text(answer_json(CLASSIFY)))
    eng, _ = run(fake_anthropic)
    assert eng.client.max_retries == 0
    assert len(fake_anthropic.bodies) == 3
