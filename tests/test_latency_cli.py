"""A latency-only incident (p95 climbs, the error rate stays flat) through `incident triage`,
and `incident logs latency`."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path

from tests.latency_fixtures import latency_rows, write
from typer.testing import CliRunner

from incident.cli import app
from incident.scenario import DeploySpec, ScenarioPaths, ScenarioSpec, build_scenario

runner = CliRunner()
_OLD = (DeploySpec("41", -60 * 24 * 3, version="2.3.0"), DeploySpec("42", -60 * 24 * 2, version="2.3.1"))


def _slow_scenario(
    root: Path, *, recovered_after: int | None = None, symptom: str = "checkout feels sluggish", slow_ms: tuple[int, int] = (1500, 2500),
) -> ScenarioPaths:
    spec = ScenarioSpec(symptom=symptom, deploys=_OLD, now_minutes=15)
    paths = build_scenario(root, spec)
    for f in (root / "logs").iterdir():
        f.unlink()
    history = 90
    until = None if recovered_after is None else history + recovered_after
    rows = latency_rows(history + 15, slow_from=history, slow_until=until, start=spec.onset - timedelta(minutes=history),
                        slow_ms=slow_ms)
    (root / "logs" / "app.log").write_text(write(rows, "kv_ms"))
    paths.logs = [str(root / "logs" / "app.log")]
    return paths


def _triage(paths: ScenarioPaths, incidents: Path) -> dict:  # type: ignore[type-arg]
    args = ["triage", "--non-interactive", "--json", "--engine", "offline", "--repo", str(paths.repo),
            "--deploys", str(paths.deploys), "--deploys-format", paths.deploys_format, "--service", paths.service,
            "--symptom", paths.symptom, "--now", paths.now.isoformat(), "--incidents-dir", str(incidents)]
    for spec in paths.logs:
        args += ["--logs", spec]
    result = runner.invoke(app, args, env={"ANTHROPIC_API_KEY": ""})
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_latency_only_incident_is_found_sized_and_alerted_on(tmp_path: Path) -> None:
    paths = _slow_scenario(tmp_path / "s")
    onset = paths.now - timedelta(minutes=15)
    out = _triage(paths, tmp_path / "incidents")
    phases = {p["phase"]: p["output"] for p in out["phases"]}
    # A third of the requests (checkout's) take 2 s: overall p95 is 20x its baseline.
    assert out["classification"] == "active", phases["classify"]["summary"]
    assert out["severity"] == "SEV-2", phases["classify"]["severity_reason"]
    assert "slow" in phases["classify"]["summary"]
    assert abs(_at(out["onset"]) - onset) <= timedelta(minutes=1)
    assess = phases["assess"]
    radius = assess["blast_radius"]["latency"]
    assert radius.startswith("p95 ") and "baseline on /api/checkout" in radius, radius
    assert "/api/checkout (p95" in assess["blast_radius"]["affected"][0]
    assert "errors did not rise" in assess["broken"]
    assert phases["diagnose"]["mechanism"].startswith("requests slowed")
    assert "requests slowed" in phases["diagnose"]["impact"]
    items = [i for i in phases["review"]["action_items"] if "p95 latency" in i["description"]]
    assert items and items[0]["priority"] == "P1" and "errors alone did not show" in items[0]["description"]
    # No change and no failing dependency: add capacity first, never a rollback or a failover first.
    contain = phases["contain"]
    assert contain["mitigations"][0]["kind"] == "scale" and not contain["rollback_first"]
    assert "requests slowed (p95 " in contain["note"]


def test_latency_back_under_threshold_verifies_as_working(tmp_path: Path) -> None:
    paths = _slow_scenario(tmp_path / "s", recovered_after=6, symptom="checkout was slow, seems resolved")
    out = _triage(paths, tmp_path / "incidents")
    phases = {p["phase"]: p["output"] for p in out["phases"]}
    assert out["classification"] == "post-incident", phases["classify"]["summary"]
    verify = phases["verify"]
    assert verify["status"] == "working", verify["summary"]
    assert verify["p95_ms_after"] is not None and verify["p95_ms_after"] < 200
    assert verify["p95_ms_before"] is not None and verify["p95_ms_before"] > 1000


def test_a_milder_slowdown_is_degraded(tmp_path: Path) -> None:
    paths = _slow_scenario(tmp_path / "s", slow_ms=(400, 600))
    out = _triage(paths, tmp_path / "incidents")
    phases = {p["phase"]: p["output"] for p in out["phases"]}
    assert (out["classification"], out["severity"]) == ("degraded", "SEV-3"), phases["classify"]["summary"]
    assert "few fail" in phases["classify"]["severity_reason"]
    assert phases["contain"]["mitigations"], phases["contain"]


def test_the_assess_panel_shows_the_latency_line(tmp_path: Path) -> None:
    paths = _slow_scenario(tmp_path / "s", slow_ms=(400, 600))
    args = ["triage", "--non-interactive", "--engine", "offline", "--repo", str(paths.repo), "--deploys", str(paths.deploys),
            "--service", paths.service, "--symptom", paths.symptom, "--now", paths.now.isoformat(),
            "--incidents-dir", str(tmp_path / "incidents"), "--logs", paths.logs[0]]
    result = runner.invoke(app, args, env={"ANTHROPIC_API_KEY": "", "COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert re.search(r"Latency p95 \d+ ms vs 1\d\d ms baseline on /api/checkout", result.output), result.output[-3000:]


def test_the_prompts_carry_the_latency_evidence(tmp_path: Path) -> None:
    paths = _slow_scenario(tmp_path / "s")
    inc = tmp_path / "incidents"
    out = _triage(paths, inc)
    shown = runner.invoke(app, ["prompt", out["incident_id"], "assess", "--incidents-dir", str(inc)])
    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.stdout.split())
    assert re.search(r"Latency \(\d+ request durations read; .*duration_ms", text), text[:3000]
    assert re.search(r"baseline p50 \d+ ms, p95 \d+ ms; onset of a sustained p95 rise 2026-11-21T14:3\d:00Z", text)
    assert re.search(r"/api/checkout: p95 [\d.]+ s over \d+ \(before: p95 \d+ ms", text)


def test_logs_latency_command_text_and_json(tmp_path: Path) -> None:
    from tests.latency_fixtures import T0

    rows = latency_rows(120, slow_from=90, slow_until=None, start=T0, slow_ms=(1500, 2500))
    log = tmp_path / "app.log"
    log.write_text(write(rows, "kv_ms"))
    now = (T0 + timedelta(minutes=120)).isoformat()
    res = runner.invoke(app, ["logs", "latency", str(log), "--since", "2h", "--now", now, "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    lat = doc["latency"]
    assert doc["schema_version"] == 1 and _at(lat["onset"]) == T0 + timedelta(minutes=90)
    assert lat["still_elevated"] and lat["endpoints"][0]["name"] == "/api/checkout"
    assert lat["recent_p95_ms"] > 10 * lat["baseline_p95_ms"]
    only = runner.invoke(app, ["logs", "latency", str(log), "--since", "2h", "--now", now, "--json", "--endpoint", "/api/cart"])
    assert only.exit_code == 0 and json.loads(only.stdout)["latency"]["onset"] is None  # the cart never slowed
    text = runner.invoke(app, ["logs", "latency", str(log), "--since", "2h", "--now", now])
    assert text.exit_code == 0 and "onset" in text.stdout and "/api/checkout: p95" in text.stdout
    none = tmp_path / "plain.log"
    none.write_text("2026-11-21T14:00:00Z ERROR boom\n")
    res = runner.invoke(app, ["logs", "latency", str(none), "--now", now])
    assert res.exit_code == 0 and "no request durations" in res.stdout
