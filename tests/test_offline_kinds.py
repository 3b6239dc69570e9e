"""The general rules behind the kinds of incident: failure families as other runtimes print them,
flag/config flips in deploy histories, series shapes (sawtooth, collapse, slow climb), traces."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from incident.engines import analysis as an
from incident.engines import signals as sig
from incident.engines.traces import raised_line, trace_facts
from incident.models import Deploy, ErrorTimeline, Evidence, SearchHit, TimelineBucket

T0 = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def _ev(*texts: str) -> Evidence:
    return Evidence(now=T0, error_samples=[SearchHit(path="app.log", line_no=i, at=T0, text=t) for i, t in enumerate(texts)])


@pytest.mark.parametrize(("text", "kind"), [
    ("Error: getaddrinfo ENOTFOUND api.stripe.com", "dns"),
    ("java.net.UnknownHostException: orders-db.internal: Name or service not known", "dns"),
    ("HikariPool-1 - Connection is not available, request timed out after 30000ms.", "db"),
    ("ERROR 1040 (HY000): Too many connections", "db"),
    ("ERROR: deadlock detected\nDETAIL: Process 4242 waits for ShareLock on transaction 991", "db"),
    ("fatal error: runtime: out of memory", "memory"),
    ("<--- JS stacktrace --->\nFATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory", "memory"),
    ("write /var/log/app/app.log: no space left on device", "disk"),
    ("javax.net.ssl.SSLHandshakeException: PKIX path validation failed: validity check failed", "tls"),
    ("Error: certificate has expired\n    at TLSSocket.onConnectSecure (node:_tls_wrap:1674:34)", "tls"),
    ("ActiveRecord::StatementInvalid: PG::UndefinedColumn: ERROR:  column users.plan_id does not exist", "schema"),
    ("sqlite3.OperationalError: no such table: invoices", "schema"),
    ("upstream connect error or disconnect/reset before headers. reset reason: connection termination", "dependency"),
])
def test_failure_families_as_runtimes_print_them(text: str, kind: str) -> None:
    found = sig.dominant(_ev(text, text))
    assert found is not None and found.kind == kind and found.records == 2


def test_a_family_in_a_minority_of_records_does_not_decide() -> None:
    other = "KeyError: 'sku'"
    assert sig.dominant(_ev("OSError: [Errno 28] No space left on device", other, other, other, other)) is None


def test_the_example_is_the_raised_exception_not_the_request_line() -> None:
    text = ('2026-11-21T12:00:01Z ERROR [api] method=GET path=/x status=504 duration_ms=30001 unhandled exception\n'
            'Traceback (most recent call last):\n  File "/app/x.py", line 3, in f\n    g()\n'
            "httpx.ReadTimeout: timed out waiting for ledger.example.net")
    found = sig.dominant(_ev(text))
    assert found is not None and found.example == "httpx.ReadTimeout: timed out waiting for ledger.example.net"


def test_message_of_cuts_the_head_of_a_line() -> None:
    line = '2026-11-21T12:00:01.123Z WARN  [checkout] method=POST path="/a b" status=429 rate limited: client over quota'
    assert sig.message_of(line) == "rate limited: client over quota"
    assert sig.message_of("plain message") == "plain message"


def _deploy(id_: str, minutes: float, *, sha: str | None = None, version: str | None = None, desc: str | None = None) -> Deploy:
    return Deploy(id=id_, service="api", started_at=T0 + timedelta(minutes=minutes), status="succeeded", sha=sha, version=version,
                  description=desc)


def test_flip_kind_needs_the_same_artifact_and_words() -> None:
    base = _deploy("1", -100, sha="a" * 40, version="1.0")
    assert an.flip_kind(_deploy("2", -5, sha="a" * 40, desc="enable feature flag new_checkout"), [base]) == "flag"
    assert an.flip_kind(_deploy("2", -5, version="1.0", desc="Toggled dark_mode for 50%"), [base]) == "flag"
    assert an.flip_kind(_deploy("2", -5, sha="a" * 40, desc="config: raise pool size to 40"), [base]) == "config"
    # New code that mentions a flag is a release, not a flip.
    assert an.flip_kind(_deploy("2", -5, sha="b" * 40, desc="ship new_checkout behind a flag"), [base]) is None
    assert an.flip_kind(_deploy("2", -5, sha="a" * 40, desc="redeploy"), [base]) is None
    assert an.flip_kind(_deploy("2", -5, sha="a" * 40), [base]) is None
    # A deploy-log entry that names no artifact at all is judged by its words.
    assert an.flip_kind(_deploy("2", -5, desc="kill switch payments_v2 on"), [base]) == "flag"


def _timeline(series: list[tuple[int, int]], *, onset: int, still: bool, base: float = 0.002) -> ErrorTimeline:
    buckets = [TimelineBucket(at=T0 + timedelta(minutes=i), errors=e, total=t) for i, (e, t) in enumerate(series)]
    return ErrorTimeline(buckets=buckets, onset=T0 + timedelta(minutes=onset), still_elevated=still, baseline_error_ratio=base)


def test_sawtooth_calm_between_bursts_is_not_recovery() -> None:
    series = [(0, 100)] * 60 + ([(30, 100)] * 4 + [(0, 100)] * 16) * 3  # bursts at 60, 80 and 100
    series = series[:-10]  # now: 6 min after the third burst
    tl = _timeline(series, onset=60, still=False)
    rec = sig.recurring(tl, tl.onset, T0 + timedelta(minutes=len(series)))
    assert rec is not None and rec.episodes == 3 and rec.period_minutes == 20 and rec.ratio == pytest.approx(0.3)
    # A long calm after the last burst is a recovery after all.
    long = series + [(0, 100)] * 60
    assert sig.recurring(_timeline(long, onset=60, still=False), tl.onset, T0 + timedelta(minutes=len(long))) is None


def test_a_single_step_is_neither_a_sawtooth_nor_a_slow_climb() -> None:
    series = [(0, 100)] * 120 + [(30, 100)] * 20 + [(0, 100)] * 20
    tl = _timeline(series, onset=120, still=False)
    assert sig.recurring(tl, tl.onset, T0 + timedelta(minutes=160)) is None
    assert sig.gradual_start(tl, tl.onset) is None


def test_slow_climb_start_is_estimated_before_the_threshold_crossing() -> None:
    series = [(0, 200)] * 60 + [(round(200 * 0.06 * i / 120), 200) for i in range(120)]
    tl = _timeline(series, onset=150, still=True)
    began = sig.gradual_start(tl, tl.onset)
    assert began is not None and T0 + timedelta(minutes=60) <= began <= T0 + timedelta(minutes=120)


def test_volume_collapse_and_spike() -> None:
    calm = [(0, 60)] * 60
    collapsed = _timeline(calm + [(1, 2), (0, 0), (0, 0), (1, 1), (0, 0), (1, 2)], onset=60, still=True)
    v = sig.volume(collapsed, collapsed.onset)
    assert v is not None and v.ratio <= sig.COLLAPSE
    spike = _timeline(calm + [(20, 300)] * 10, onset=60, still=True)
    v = sig.volume(spike, spike.onset)
    assert v is not None and v.ratio == pytest.approx(5.0)


def test_raised_line_of_chained_python_and_java_library_frames() -> None:
    chained = ("Traceback (most recent call last):\n  File \"/app/a.py\", line 1, in f\n    x()\nKeyError: 'k'\n\n"
               "During handling of the above exception, another exception occurred:\n\n"
               "Traceback (most recent call last):\n  File \"/app/a.py\", line 3, in f\n    raise Boom()\napp.errors.Boom: wrapped")
    assert raised_line(chained) == "app.errors.Boom: wrapped"
    java = ("java.lang.IllegalStateException: closed\n\tat org.springframework.web.Foo.bar(Foo.java:10)\n"
            "\tat com.acme.billing.Invoices.render(Invoices.java:42)\n\tat com.fasterxml.jackson.X.y(X.java:1)")
    facts = trace_facts([java])
    assert facts.innermost() is not None and facts.innermost().path == "com/acme/billing/Invoices.java"  # type: ignore[union-attr]
    assert facts.top_exception == "java.lang.IllegalStateException: closed"
