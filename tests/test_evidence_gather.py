"""Evidence gathering: the window, best effort over failing sources, no peeking past `now`."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.offline_fixtures import context

from incident.clock import frozen_clock
from incident.evidence import gather, window_for
from incident.scenario import DeploySpec, ScenarioSpec, build_example, build_scenario

NOW = datetime(2026, 11, 21, 14, 40, tzinfo=UTC)


def test_window_reaches_two_hours_before_the_start_or_the_lookback() -> None:
    six = timedelta(hours=6)
    assert window_for(None, NOW, six) == (NOW - six, NOW)
    started = NOW - timedelta(hours=5)
    assert window_for(started, NOW, six) == (started - timedelta(hours=2), NOW)
    assert window_for(NOW + timedelta(hours=1), NOW, timedelta(minutes=30)) == (NOW - timedelta(hours=2), NOW)


def test_example_evidence(tmp_path: Path) -> None:
    paths = build_example(tmp_path)
    seen: list[tuple[str, int, int]] = []
    ctx = context(paths)
    ev = gather(ctx, service="checkout", started=None, now=paths.now, progress=lambda *a: seen.append(a))
    assert ev.timeline is not None and ev.timeline.onset == paths.expected["onset"]
    assert [d.id for d in ev.deploys] == ["1", "2", "3", "4", "5", "6"]
    assert ev.commits and ev.commits[0].sha == paths.expected["shas"]["6"]  # type: ignore[index]
    assert any(p.new and p.count > 50 for p in ev.patterns)
    assert any("AttributeError" in "\n".join([s.text, *s.after]) for s in ev.error_samples)
    assert {e.name for e in ev.endpoints_after} >= {"/api/checkout"}
    assert ev.endpoints_before
    assert not [s for s in ev.sources if s.refused]
    assert seen[-1][0] == "done" and {"deploys", "timeline", "commits"} <= {s[0] for s in seen}


def test_failing_sources_become_notes_and_the_rest_is_gathered(tmp_path: Path) -> None:
    paths = build_example(tmp_path / "ex")
    outside = tmp_path / "elsewhere.log"
    outside.write_text("2026-11-21T14:33:00Z ERROR boom\n")
    not_repo = tmp_path / "ex" / "logs"  # a directory that is not a git repository
    bad_deploys = tmp_path / "ex" / "deploys" / "garbage.json"
    bad_deploys.write_bytes(b"\xff\xfe{{{ not json")
    ctx = context(paths)
    ctx = replace(
        ctx, repo=not_repo, deploy_paths=[str(bad_deploys), str(paths.deploys)], deploys_format=None,
        log_paths=[str(outside), *paths.logs, str(tmp_path / "ex" / "logs" / "missing.log")],
    )
    ev = gather(ctx, service="checkout", started=None, now=paths.now)
    kinds = {(s.kind, Path(s.path).name) for s in ev.sources if s.refused or s.reason}
    assert ("logs", "elsewhere.log") in kinds
    assert ("logs", "missing.log") in kinds
    assert any(s.kind == "repo" for s in ev.sources)
    assert any(s.kind == "deploys" and "garbage" in s.path for s in ev.sources)
    # ... and the readable sources still answered.
    assert ev.timeline is not None and ev.timeline.onset == paths.expected["onset"]
    assert len(ev.deploys) == 6
    assert ev.commits == []


def test_no_sources_at_all(tmp_path: Path) -> None:
    from incident.tools.base import Roots, ToolContext

    ctx = ToolContext(roots=Roots.of(tmp_path), clock=frozen_clock(NOW))
    ev = gather(ctx, service=None, started=NOW - timedelta(minutes=20), now=NOW)
    assert ev.timeline is None and ev.deploys == [] and ev.commits == [] and ev.sources == []
    assert ev.window_start == NOW - timedelta(hours=6)


def test_replay_does_not_see_the_future(tmp_path: Path) -> None:
    spec = ScenarioSpec(
        deploys=(DeploySpec("1", -600), DeploySpec("2", -2, files={"checkout/shipping.py": "x = 1\n"}),
                 DeploySpec("3", 10, rollback_to="1")),
        recovered_minutes=12, now_minutes=40,
    )
    paths = build_scenario(tmp_path, spec)
    early = spec.onset + timedelta(minutes=6)
    ev = gather(context(paths, now=early), service="checkout", started=None, now=early)
    assert [d.id for d in ev.deploys] == ["1", "2"]
    assert ev.timeline is not None and ev.timeline.still_elevated
    assert ev.window_end == early


@pytest.mark.parametrize("fmt", ["jsonl", "github"])
def test_deploys_of_every_service_are_kept_oldest_first(tmp_path: Path, fmt: str) -> None:
    spec = ScenarioSpec(
        deploys_format=fmt,  # type: ignore[arg-type]
        deploys=(DeploySpec("11", -300, service="payments"), DeploySpec("12", -200), DeploySpec("13", -5, service="payments")),
    )
    paths = build_scenario(tmp_path, spec)
    ev = gather(context(paths), service="checkout", started=None, now=paths.now)
    assert [d.id for d in ev.deploys] == ["11", "12", "13"]
    if fmt == "jsonl":
        assert [d.service for d in ev.deploys] == ["payments", "checkout", "payments"]
    assert json.loads(json.dumps([d.model_dump(mode="json") for d in ev.deploys]))
