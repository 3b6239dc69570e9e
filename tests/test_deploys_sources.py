"""Deploy sources end to end: each source with its own format, from flags, config and runbooks,
through `incident deploys`, `incident triage` and `--resume` of requests journaled before."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from tests.deploy_fixtures import SHAS, T0, helm_history, heroku_releases, write_json, z

from incident.clock import fixed_clock
from incident.config import load_settings
from incident.errors import EXIT_USAGE, UsageError
from incident.journal import Journal
from incident.runtime import Runtime
from incident.scenario import build_example
from incident.tools.deploys import pair_formats
from incident.triage import build_request, request_for_resume

# The keys a TriageRequest had before sources carried their own format: a journal written then
# holds exactly these.
OLD_REQUEST_KEYS = {
    "service", "symptom", "title", "alert", "started", "repo", "deploys", "deploys_format", "logs",
    "runbook_paths", "engine", "scripted_dir", "roots", "model", "severity",
}  # fmt: skip


def test_pair_formats_once_for_all_or_once_per_source() -> None:
    assert pair_formats(["a", "b"], []) == [None, None]
    assert pair_formats(["a", "b"], ["helm"]) == ["helm", "helm"]
    assert pair_formats(["a", "b"], "csv") == ["csv", "csv"]
    assert pair_formats(["a", "b", "c"], ["helm", "auto", "GIT-TAGS"]) == ["helm", None, "git-tags"]
    with pytest.raises(UsageError, match="given 2 times for 3 deploy sources"):
        pair_formats(["a", "b", "c"], ["helm", "csv"])
    with pytest.raises(UsageError, match="unknown deploy format 'spinnaker'"):
        pair_formats(["a"], ["spinnaker"])


def _three_sources(tmp_path: Path) -> list[Path]:
    helm = write_json(tmp_path / "history.json", helm_history())
    csv = tmp_path / "web.csv"
    csv.write_text(f"deployed_at,app,release,commit,result\n{z(T0)},web,w7,{SHAS[6]},ok\n")
    heroku = write_json(tmp_path / "releases.txt", heroku_releases())
    return [helm, csv, heroku]


def test_deploys_command_reads_several_sources_each_in_its_format(cli, tmp_path: Path) -> None:
    helm, csv, heroku = _three_sources(tmp_path)
    code, out, err = cli("deploys", str(helm), str(csv), str(heroku), "--deploys-format", "helm",
                         "--deploys-format", "auto", "--deploys-format", "heroku", "--json", "-n", "1000")  # fmt: skip
    assert code == 0, err
    data = json.loads(out)
    assert {d["source"] for d in data["deploys"]} == {"helm", "csv", "heroku"}
    assert [n["detail"].split("(")[1].split(")")[0] for n in data["sources"]] == ["helm", "csv", "heroku"]
    starts = [datetime.fromisoformat(d["started_at"]) for d in data["deploys"]]
    assert starts == sorted(starts)  # one history, oldest first, whatever the sources
    # A wrong format for one source is that source's problem; the others are still read.
    code, out, err = cli("deploys", str(helm), str(csv), "--deploys-format", "helm", "--deploys-format", "github", "--json")
    data = json.loads(out)
    assert code == 0, err
    assert {d["source"] for d in data["deploys"]} == {"helm"}
    assert "web.csv" in data["sources"][1]["path"] and data["sources"][1]["reason"]


def test_deploys_command_format_count_mismatch_and_globs(cli, tmp_path: Path) -> None:
    helm, csv, heroku = _three_sources(tmp_path)
    code, _, err = cli("deploys", str(helm), str(csv), str(heroku), "--deploys-format", "helm", "--deploys-format", "csv")
    assert code == EXIT_USAGE and "given 2 times for 3" in err and "once per source" in err
    code, out, err = cli("deploys", str(tmp_path / "*.json"), "--json")
    assert code == 0, err
    assert {d["source"] for d in json.loads(out)["deploys"]} == {"helm"}


def _runtime(tmp_path: Path, config: str | None = None) -> Runtime:
    path = None
    if config is not None:
        path = tmp_path / ".incident.yaml"
        path.write_text(config)
    return Runtime(settings=load_settings(config=path, cwd=tmp_path, env={}), clock=fixed_clock(T0))


def test_build_request_keeps_each_source_format(tmp_path: Path) -> None:
    helm, csv, heroku = _three_sources(tmp_path)
    rt = _runtime(tmp_path)
    req = build_request(rt, deploys=[helm, csv, heroku], deploys_format=["helm", "auto", "heroku"])
    assert req.deploy_formats == {str(helm.resolve()): "helm", str(heroku.resolve()): "heroku"}
    assert req.deploys_format is None  # no single format for all any more
    req = build_request(rt, deploys=[helm, csv], deploys_format="helm")  # a library caller's single string
    assert req.deploys_format == "helm" and set(req.deploy_formats.values()) == {"helm"}
    with pytest.raises(UsageError, match="without --deploys"):
        build_request(rt, deploys_format=["helm", "csv"])


def test_build_request_takes_formats_from_config_and_one_flag_overrides_them(tmp_path: Path) -> None:
    _three_sources(tmp_path)
    rt = _runtime(tmp_path, "services:\n  - name: shop\n    deploys:\n      - {path: history.json, format: helm}\n"
                            "      - web.csv\n      - {path: releases.txt, format: heroku}\n")  # fmt: skip
    req = build_request(rt, service="shop")
    by_name = {Path(k).name: v for k, v in req.deploy_formats.items()}
    assert by_name == {"history.json": "helm", "releases.txt": "heroku"} and len(req.deploys) == 3
    forced = build_request(rt, service="shop", deploys_format=["jsonl"])
    assert set(forced.deploy_formats.values()) == {"jsonl"} and forced.deploys_format == "jsonl"
    bad = _runtime(tmp_path, "services:\n  - name: shop\n    deploys: [{path: history.json, format: spinnaker}]\n")
    with pytest.raises(UsageError, match="unknown deploy format 'spinnaker'"):
        build_request(bad, service="shop")


def _triage(cli, ex, inc: Path, *extra: str) -> tuple[int, dict, str]:
    args = ["triage", "--non-interactive", "--json", "--engine", "offline", "--incidents-dir", str(inc),
            "--service", ex.service, "--symptom", ex.symptom, "--repo", str(ex.repo), "--now", ex.now.isoformat()]  # fmt: skip
    for lg in ex.logs:
        args += ["--logs", lg]
    code, out, err = cli(*args, *extra)
    return code, (json.loads(out) if out.strip() else {}), err


def test_triage_reads_sources_of_different_formats(cli, tmp_path: Path) -> None:
    ex = build_example(tmp_path / "ex")
    other = tmp_path / "ex" / "deploys" / "web.csv"
    other.write_text(f"time;app;release;state\n{ex.now.isoformat()};web;w1;ok\n")
    inc = tmp_path / "inc"
    code, doc, err = _triage(cli, ex, inc, "--deploys", str(ex.deploys), "--deploys-format", "helm",
                             "--deploys", str(other), "--deploys-format", "csv")  # fmt: skip
    assert code == 0, err
    folder = inc / doc["incident_id"]
    saved = json.loads((folder / "evidence" / "deploys.json").read_text())
    assert {d["source"] for d in saved} == {"helm", "csv"}
    assert doc["suspect_change"]["id"] == ex.expected["suspect_id"]
    first = json.loads((folder / "events.jsonl").read_text().splitlines()[0])
    formats = first["payload"]["triage_request"]["deploy_formats"]
    assert sorted(formats.values()) == ["csv", "helm"]


def _cut_after(folder: Path, phase: str, keep_keys: set[str] | None = None) -> None:
    """The journal as if the process died after `phase`; with `keep_keys`, its request as an older
    version of the program wrote it."""
    keep = []
    for line in (folder / "events.jsonl").read_text().splitlines(keepends=True):
        ev = json.loads(line)
        if keep_keys is not None:
            for holder in (ev["payload"].get("request"), ev["payload"].get("triage_request")):
                if isinstance(holder, dict):
                    for k in set(holder) - keep_keys:
                        del holder[k]
            line = json.dumps(ev) + "\n"
        keep.append(line)
        if ev["type"] == "phase.completed" and ev["payload"]["phase"] == phase:
            break
    (folder / "events.jsonl").write_text("".join(keep))


def test_resume_of_a_request_journaled_before_sources_had_formats(cli, tmp_path: Path) -> None:
    ex = build_example(tmp_path / "ex")
    inc = tmp_path / "inc"
    code, doc, err = _triage(cli, ex, inc, "--deploys", str(ex.deploys), "--deploys-format", "helm")
    assert code == 0, err
    folder = inc / doc["incident_id"]
    _cut_after(folder, "assess", keep_keys=OLD_REQUEST_KEYS)
    first = json.loads((folder / "events.jsonl").read_text().splitlines()[0])
    assert set(first["payload"]["triage_request"]) <= OLD_REQUEST_KEYS and first["payload"]["triage_request"]["deploys_format"] == "helm"
    code, out, err = cli("triage", "--resume", doc["incident_id"], "--json", "--incidents-dir", str(inc), "--now", ex.now.isoformat())
    assert code == 0, err
    resumed = json.loads(out)
    assert [p["phase"] for p in resumed["phases"]] == [p["phase"] for p in doc["phases"]]
    assert resumed["rollback_target"] == doc["rollback_target"] and resumed["suspect_change"] == doc["suspect_change"]
    assert not [n for n in resumed["notices"] if "not read" in n]


def test_resume_of_a_request_with_per_source_formats(cli, tmp_path: Path) -> None:
    ex = build_example(tmp_path / "ex")
    inc = tmp_path / "inc"
    copy = ex.deploys.with_name("history.data")  # no telling name: only the journaled format reads it
    copy.write_bytes(ex.deploys.read_bytes())
    code, doc, err = _triage(cli, ex, inc, "--deploys", str(copy), "--deploys-format", "helm")
    assert code == 0, err
    _cut_after(inc / doc["incident_id"], "classify")
    saved = request_for_resume(Journal(inc / doc["incident_id"]))
    assert saved.deploy_formats == {str(copy.resolve()): "helm"} and saved.deploys == [copy.resolve()]
    code, out, err = cli("triage", "--resume", doc["incident_id"], "--json", "--incidents-dir", str(inc), "--now", ex.now.isoformat())
    assert code == 0, err
    assert json.loads(out)["suspect_change"] == doc["suspect_change"]


def test_deploy_history_tool_reads_each_source_in_its_own_format(tmp_path: Path) -> None:
    from incident.tools.base import Roots, Toolbox, ToolContext
    from incident.tools.deploys import TOOLS

    # A trimmed Heroku export detects as a plain deploy log: only the named format reads
    # "Rollback to v41" as a rollback.
    trimmed = [{k: r[k] for k in ("version", "created_at", "description", "status")} for r in heroku_releases()]
    heroku = write_json(tmp_path / "releases.json", trimmed)
    helm = write_json(tmp_path / "history.json", helm_history())
    ctx = ToolContext(roots=Roots.of(tmp_path), deploy_paths=[str(heroku), str(helm)], service="checkout",
                      deploy_formats={str(heroku): "heroku"}, clock=fixed_clock(T0))  # fmt: skip
    result = Toolbox(ctx, TOOLS).run("deploy_history", {"since": "12h"})
    assert result.status == "ok"
    assert "(rollback to 41)" in result.text and "(rollback to 3)" in result.text
    assert {d.source for d in result.data["deploys"]} == {"heroku", "helm"}
    ctx.deploy_formats = {}
    detected = Toolbox(ctx, TOOLS).run("deploy_history", {"since": "12h"})
    assert "(rollback to 41)" not in detected.text and {d.source for d in detected.data["deploys"]} == {"jsonl", "helm"}
