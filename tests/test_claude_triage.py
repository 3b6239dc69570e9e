"""`incident triage --engine claude` end to end: the CLI, the session, the real SDK and the fake."""

from __future__ import annotations

import json

from claude_fixtures import model_like
from fake_anthropic import FakeAnthropic, fake_anthropic_fixture, overloaded  # noqa: F401
from incident.errors import EXIT_ENGINE
from incident.scenario import build_example
from redaction_corpus import rnd


def triage_args(ex, incidents, *extra: str) -> list[str]:
    args = ["triage", "--non-interactive", "--json", "--engine", "claude", "--incidents-dir", str(incidents),
            "--service", ex.service, "--symptom", ex.symptom, "--repo", str(ex.repo),
            "--deploys", str(ex.deploys), "--deploys-format", ex.deploys_format, "--now", ex.now.isoformat()]
    for lg in ex.logs:
        args += ["--logs", lg]
    return [*args, *extra]


def seed_secret(ex) -> str:
    """Append an error line carrying a password to the example's first log, inside the incident."""
    import glob
    import random

    secret = "Zq" + rnd(random.Random(3), "abcdefghijkmnopqrstuvwxyzABCDEFGH23456789", 18)
    path = sorted(glob.glob(ex.logs[0]))[0]
    with open(path, "a", encoding="utf-8") as f:
        f.write(f"{ex.now.strftime('%Y-%m-%dT%H:%M:%SZ')} ERROR db connect failed dsn=postgres://app:{secret}@db/orders\n")
    return secret


def test_triage_with_claude_against_the_fake(cli, fake_anthropic, tmp_path):
    ex = build_example(tmp_path / "example")
    secret = seed_secret(ex)
    fake_anthropic.default = model_like
    code, out, err = cli(*triage_args(ex, tmp_path / "inc"))
    assert code == 0, err
    doc = json.loads(out)
    assert [p["phase"] for p in doc["phases"]] == ["classify", "assess", "contain", "diagnose", "fix", "verify", "review"]
    assert all(p["engine"] == "claude" for p in doc["phases"]), doc["phases"]
    assert doc["severity"] == "SEV-2"
    # The model's rollback is printed, unvetted unless it is exactly the runbook's rendered command.
    assert all(m["vetted"] is False for m in doc["mitigations"] if m["command"] == "helm rollback checkout 4")
    bodies = fake_anthropic.bodies
    assert any(b.get("tools") for b in bodies) and any(
        b["type"] == "tool_result" for body in bodies for m in body["messages"] if isinstance(m["content"], list)
        for b in m["content"]
    )
    declared = {t["name"] for b in bodies for t in b.get("tools", [])}
    assert declared <= {"recent_commits", "show_commit", "commits_between", "list_tags", "deploy_history",
                        "search_logs", "error_timeline", "log_patterns"}
    assert secret not in fake_anthropic.wire_text()
    assert all(not {"temperature", "top_p", "top_k"} & set(b) for b in bodies)
    events = [json.loads(line) for line in (tmp_path / "inc" / doc["incident_id"] / "events.jsonl").read_text().splitlines()]
    usage = [e for e in events if e["type"] == "llm.usage"]
    assert len(usage) == 7 and all(u["payload"]["usage"]["requests"] >= 1 for u in usage)
    assert secret not in json.dumps(events)


def test_api_down_falls_back_to_offline_per_phase_and_the_triage_goes_on(cli, fake_anthropic, tmp_path):
    ex = build_example(tmp_path / "example")
    config = tmp_path / ".incident.yaml"
    config.write_text("llm_budget_seconds: 1\n", encoding="utf-8")
    fake_anthropic.default = overloaded()
    code, out, err = cli(*triage_args(ex, tmp_path / "inc", "--config", str(config)))
    assert code == 0, err
    doc = json.loads(out)
    assert all(p["engine"] == "offline" for p in doc["phases"])
    assert doc["suspect_change"]["id"] == "6" and doc["rollback_target"]["id"] == "4"
    events = [json.loads(line) for line in (tmp_path / "inc" / doc["incident_id"] / "events.jsonl").read_text().splitlines()]
    fallbacks = [e["payload"] for e in events if e["type"] == "engine.fallback"]
    assert len(fallbacks) == 7 and "overloaded (529)" in fallbacks[0]["reason"]
    # The first phase spent the budget; the others tried once each.
    assert len(fake_anthropic.bodies) < 7 + 6


def test_engine_claude_without_a_key_is_a_clear_error(cli, tmp_path):
    ex = build_example(tmp_path / "example")
    code, out, err = cli(*triage_args(ex, tmp_path / "inc"))
    assert code == EXIT_ENGINE
    assert "ANTHROPIC_API_KEY" in out + err
    assert "Traceback" not in out + err


def test_facts_in_the_record_come_from_the_analysers_not_the_model(cli, fake_anthropic, tmp_path):
    """The scripted model names no onset, suspect or rollback target (and would be free to invent
    them): the record still carries the ones the offline analysers computed from the evidence."""
    from incident.resources import data_dir

    ex = build_example(tmp_path / "example")
    runbooks = ("--runbooks", str(data_dir("runbooks")))
    code, out, err = cli(*[a if a != "claude" else "offline" for a in triage_args(ex, tmp_path / "off", *runbooks)])
    assert code == 0, err
    offline = json.loads(out)
    fake_anthropic.default = model_like
    code, out, err = cli(*triage_args(ex, tmp_path / "inc", *runbooks))
    assert code == 0, err
    doc = json.loads(out)
    assert all(p["engine"] == "claude" for p in doc["phases"])
    for key in ("onset", "rollback_target"):
        assert doc[key] == offline[key], key
    assert doc["suspect_change"]["id"] == offline["suspect_change"]["id"]
    # The runbook's vetted rollback could be rendered from those facts, so it is offered.
    assert any(m["vetted"] and m["command"].startswith("helm rollback checkout 4") for m in doc["mitigations"]), doc["mitigations"]
    prompt = (tmp_path / "inc" / doc["incident_id"] / "prompts" / "assess.md").read_text()
    assert "What the tool's own analysers found" in prompt
