"""A runbook's `sources:` are read when flags and config name none, and never outside the read roots."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from incident.errors import EXIT_USAGE
from incident.scenario import ScenarioPaths, build_example

SECRET = "TOPSECRET-9f2c ERROR do not read me"


def _runbook(root: Path, *, logs: list[str], deploys: dict | None, match: str = "services: [checkout]") -> None:
    (root / "runbooks").mkdir(exist_ok=True)
    sources = {"logs": logs, **({"deploys": deploys} if deploys else {})}
    (root / "runbooks" / "checkout.yaml").write_text(
        "id: checkout-deploy\ntitle: Checkout errors after a release\nowner: payments\nreviewed_at: 2026-11-01\n"
        f"match:\n  {match}\nsources: {json.dumps(sources)}\n"
        "mitigations:\n  - action: Roll back\n    kind: rollback\n"
    )


def _setup(tmp_path: Path, config: str = "roots: [.]\nservices:\n  - name: checkout\n    repo: repo\n") -> ScenarioPaths:
    ex = build_example(tmp_path / "ex")
    (ex.root / ".incident.yaml").write_text(config)
    return ex


def _triage(cli, ex: ScenarioPaths, inc: Path, *extra: str) -> tuple[int, dict, str]:
    code, out, err = cli("triage", "--non-interactive", "--json", "--engine", "offline", "--incidents-dir", str(inc),
                         "--config", str(ex.root / ".incident.yaml"), "--service", ex.service, "--symptom", ex.symptom,
                         "--now", ex.now.isoformat(), *extra)  # fmt: skip
    return code, (json.loads(out) if out.strip() else {}), err


def _request(inc: Path, incident_id: str) -> dict:
    first = json.loads((inc / incident_id / "events.jsonl").read_text().splitlines()[0])
    return first["payload"]["triage_request"]


def test_runbook_sources_are_read_relative_to_the_config_dir(cli, tmp_path: Path) -> None:
    ex = _setup(tmp_path)
    _runbook(ex.root, logs=["logs/*.log"], deploys={"path": "deploys/checkout.helm-history.json", "format": "helm"})
    inc = tmp_path / "inc"
    code, doc, err = _triage(cli, ex, inc)
    assert code == 0, err
    assert doc["suspect_change"]["id"] == ex.expected["suspect_id"]
    assert doc["rollback_target"]["id"] == ex.expected["rollback_target_id"]
    assert any("runbook checkout-deploy" in n and "logs/*.log" in n for n in doc["notices"])
    req = _request(inc, doc["incident_id"])
    assert req["sources_runbook"] == "checkout-deploy" and req["logs"] == [] and req["deploys"] == []
    assert req["runbook_logs"] == [str(ex.root / "logs" / "*.log")]
    assert req["deploy_formats"] == {str(ex.deploys.resolve()): "helm"}


def test_flags_and_config_win_kind_by_kind(cli, tmp_path: Path) -> None:
    ex = _setup(tmp_path)
    _runbook(ex.root, logs=["logs/other*.log"], deploys={"path": "deploys/checkout.helm-history.json"})
    inc = tmp_path / "inc"
    code, doc, err = _triage(cli, ex, inc, "--logs", ex.logs[0])
    assert code == 0, err
    req = _request(inc, doc["incident_id"])
    assert req["logs"] == [ex.logs[0]] and req["runbook_logs"] == []  # the flag named logs
    assert req["runbook_deploys"] == [str(ex.deploys.resolve())] and req["deploy_formats"] == {}  # nothing named deploys
    code, doc, err = _triage(cli, ex, inc, "--logs", ex.logs[0], "--deploys", str(ex.deploys))
    assert code == 0, err
    assert _request(inc, doc["incident_id"])["sources_runbook"] is None


def test_a_keyword_match_does_not_choose_what_to_read(cli, tmp_path: Path) -> None:
    ex = _setup(tmp_path, config="roots: [.]\n")
    _runbook(ex.root, logs=["logs/*.log"], deploys=None, match="keywords: ['500']")
    code, doc, _ = _triage(cli, ex, tmp_path / "inc")
    assert code == EXIT_USAGE and "nothing to read" in doc["error"]["message"]


def test_hostile_runbook_sources_read_nothing_outside_the_roots(cli, tmp_path: Path) -> None:
    ex = _setup(tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.log").write_text(f"2026-11-21T14:30:00Z {SECRET}\n" * 50)
    (outside / "deploys.json").write_text(ex.deploys.read_text().replace("checkout", SECRET))
    os.symlink(outside / "secret.log", ex.root / "logs" / "link.log")
    os.symlink(outside, ex.root / "logs" / "linkdir")
    hostile = ["/etc/passwd", "../outside/secret.log", "../../outside/*.log", "logs/link.log", "/etc/*",
               "logs/*/../../../outside/*", "logs/linkdir/secret.log", "~/.ssh/id_rsa", "logs/app.log"]  # fmt: skip
    _runbook(ex.root, logs=hostile, deploys={"path": "../outside/deploys.json", "format": "helm"})
    inc = tmp_path / "inc"
    code, doc, err = _triage(cli, ex, inc)
    assert code == 0, err  # the triage goes on with what is allowed
    refused = [n for n in doc["notices"] if n.startswith("not read:")]
    for raw in [h for h in hostile if h != "logs/app.log"] + ["../outside/deploys.json"]:
        assert any(f"not read: {raw}:" in n and "runbook checkout-deploy" in n for n in refused), raw
    assert any("outside the configured read roots" in n for n in refused)
    assert any("'..' after a wildcard" in n for n in refused)
    req = _request(inc, doc["incident_id"])
    assert req["runbook_logs"] == [str(ex.root / "logs" / "app.log")] and req["runbook_deploys"] == []
    everything = json.dumps(doc) + "".join(p.read_text(errors="replace") for p in (inc / doc["incident_id"]).rglob("*") if p.is_file())
    assert SECRET not in everything and "root:x:0:0" not in everything
    assert doc["suspect_change"] is None or SECRET not in json.dumps(doc["suspect_change"])


@pytest.mark.parametrize("roots", ["", "roots: [repo]\n"])
def test_runbook_sources_outside_narrow_roots_are_refused_not_added(cli, tmp_path: Path, roots: str) -> None:
    # The logs and deploys dirs are not roots here: a runbook naming them adds nothing to read.
    ex = _setup(tmp_path, config=f"{roots}services:\n  - name: checkout\n    repo: repo\n")
    _runbook(ex.root, logs=["logs/*.log"], deploys={"path": "deploys/checkout.helm-history.json", "format": "helm"})
    inc = tmp_path / "inc"
    code, doc, err = _triage(cli, ex, inc)
    assert code == 0, err
    req = _request(inc, doc["incident_id"])
    assert req["runbook_logs"] == [] and req["runbook_deploys"] == []
    assert sum("not read:" in n and "outside the configured read roots" in n for n in doc["notices"]) == 2


def test_a_runbook_may_name_several_deploy_sources_each_in_its_format(cli, tmp_path: Path) -> None:
    ex = _setup(tmp_path)
    extra = ex.root / "deploys" / "flags.jsonl"
    extra.write_text('{"at": "2026-11-21T14:10:00Z", "service": "checkout", "id": "flag-7", "description": "flag flip"}\n')
    _runbook(ex.root, logs=["logs/*.log"], deploys=[  # type: ignore[arg-type]
        {"path": "deploys/checkout.helm-history.json", "format": "helm"}, "deploys/flags.jsonl"])
    inc = tmp_path / "inc"
    code, doc, err = _triage(cli, ex, inc)
    assert code == 0, err
    req = _request(inc, doc["incident_id"])
    assert req["runbook_deploys"] == [str(ex.deploys.resolve()), str(extra.resolve())]
    assert req["deploy_formats"] == {str(ex.deploys.resolve()): "helm"}  # the second is detected
    assert doc["suspect_change"]["id"] == ex.expected["suspect_id"]


def test_an_unknown_deploy_format_in_a_runbook_is_a_load_problem(cli, tmp_path: Path) -> None:
    _runbook(tmp_path, logs=[], deploys={"path": "d.json", "format": "helmm"})
    code, out, err = cli("runbook", "check", str(tmp_path / "runbooks"))
    assert code == 1
    assert "unknown deploy format 'helmm'" in out + err and "flux" in out + err
