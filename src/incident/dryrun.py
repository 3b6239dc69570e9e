"""`incident runbook dry-run`: the whole triage against a recorded incident, checked against
what the team expects it to find. Nothing is executed: the session only ever prints commands.

A scenario folder holds:
  repo/ (a git repo), or repo.bundle (`git bundle create repo.bundle --all`), or repo.fi
        (`git fast-export --all > repo.fi`); the last two are unpacked into a temp dir
  deploys/ (one or more deploy history files) or deploys.* at the top
  logs/ (log files, any depth)
  expect.yaml   what the triage must find (see `Expect`)
  scenario.yaml optional: service, symptom, title, alert, started, now, paths, deploys format,
                mitigated_at (when the operator applied the mitigation: the verify phase measures
                the runbook's checks from then)
  scripted/     optional: recorded answers for `--engine scripted`
"""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from incident.clock import Clock, fixed_clock, iso, parse_when, system_clock, to_utc
from incident.config import Settings
from incident.errors import NotFound, UsageError
from incident.journal import Workspace
from incident.models import SCHEMA_VERSION, CheckStatus, Classification, Severity
from incident.tools.deploys import pair_formats
from incident.yaml_load import load_yaml_model

DEFAULT_TOLERANCE_MINUTES = 2.0
VerifyStatus = Literal["working", "partially working", "not working", "unknown"]
MAX_LOG_FILES = 200


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Expect(_Strict):
    onset: datetime | None = None
    onset_tolerance_minutes: float = Field(default=DEFAULT_TOLERANCE_MINUTES, ge=0)
    suspect_change: str | None = Field(default=None, description="Deploy id, or a commit sha (prefix).")
    rollback_target: str | None = None
    classification: Classification | None = None
    severity: Severity | None = None
    runbook: str | None = Field(default=None, description="The runbook id that must match; null: none may match.")
    vetted_commands: list[str] = Field(default_factory=list, description="Commands that must be proposed, vetted, verbatim.")
    verify_status: VerifyStatus | None = Field(default=None, description="The verify phase's verdict on the mitigation.")
    verify_checks: dict[str, CheckStatus] = Field(
        default_factory=dict, description="Runbook verify check (its description, or its pattern) -> pass, fail, pending or unknown."
    )


class ScenarioFile(_Strict):
    service: str | None = None
    symptom: str | None = None
    title: str | None = None
    alert: str | None = None
    started: datetime | None = None
    now: datetime | None = None
    repo: str | None = None
    deploys: list[str] = Field(default_factory=list)
    deploys_format: str | list[str] | None = None  # one for every deploy file, or one per file (auto = detect)
    logs: list[str] = Field(default_factory=list)
    mitigated_at: datetime | None = Field(
        default=None, description="When the operator applied the mitigation, recorded as `incident mark ID mitigated --at T` would."
    )


class ExpectationResult(BaseModel):
    name: str
    expected: Any
    actual: Any
    passed: bool
    note: str = ""


class DryRunReport(BaseModel):
    schema_version: int = SCHEMA_VERSION
    runbook: str
    scenario: str
    engine: str
    incident_id: str | None = None
    expectations: list[ExpectationResult] = Field(default_factory=list)
    notices: list[str] = Field(default_factory=list)
    passed: bool = False
    triage: dict[str, Any] | None = None  # the triage's JSON contract, to see why something failed
    verify_checks: list[dict[str, Any]] = Field(default_factory=list)  # the runbook's checks as the verify phase measured them


def _load(path: Path, model: type[Any], required: bool) -> tuple[Any, set[str]]:
    if not path.is_file():
        if required:
            raise UsageError(f"{path}: not found", "a scenario folder needs an expect.yaml naming what the triage must find")
        return model(), set()
    obj, problems, _ = load_yaml_model(path, model)
    if obj is None:
        raise UsageError("\n".join(f"{p.where()}: {p.message}" for p in problems), f"fix {path.name}")
    return obj, set(obj.model_fields_set)


# ---------------------------------------------------------------- the scenario's inputs


def _repo(scenario: Path, spec: ScenarioFile, tmp: Path) -> Path | None:
    if spec.repo:
        path = (scenario / spec.repo).resolve()
        if not path.exists():
            raise UsageError(f"{path}: the repo named in scenario.yaml does not exist")
    else:
        path = next((p for p in (scenario / "repo", scenario / "repo.bundle", scenario / "repo.fi") if p.exists()), scenario / "-")
        if not path.exists():
            return None
    if path.is_dir():
        return path
    return _unpack_history(path, tmp / "repo")


def _unpack_history(history: Path, dest: Path) -> Path:
    """A bundle or fast-import stream, unpacked into a private temp repo.

    git runs with a fixed argv into a directory this process just made; nothing of the
    user's is written, and the recorded file is only read.
    """
    import os

    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
    from git.cmd import Git
    from git.exc import GitCommandError, GitCommandNotFound

    exe = str(Git.GIT_PYTHON_GIT_EXECUTABLE or "git")
    safe = ["-c", "protocol.allow=never", "-c", "protocol.file.allow=always", "-c", "core.hooksPath=/dev/null"]
    env = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_TERMINAL_PROMPT": "0"}
    try:
        if history.suffix == ".bundle":
            Git(str(dest.parent)).execute([exe, *safe, "clone", "--quiet", "--no-checkout", "--", str(history.resolve()), str(dest)], env=env)
        else:
            dest.mkdir(parents=True)
            Git(str(dest)).execute([exe, *safe, "init", "--quiet", str(dest)], env=env)
            git_env = {**env, "GIT_DIR": str(dest / ".git")}
            with history.open("rb") as stream:
                Git(str(dest)).execute([exe, *safe, "fast-import", "--quiet"], istream=stream, env=git_env)
            # `git init`'s default branch may not be the one the stream wrote: point HEAD at it.
            heads = str(Git(str(dest)).execute([exe, *safe, "for-each-ref", "--format=%(refname)", "refs/heads"], env=git_env)).split()
            if heads:
                head = next((h for h in ("refs/heads/main", "refs/heads/master") if h in heads), heads[0])
                Git(str(dest)).execute([exe, *safe, "symbolic-ref", "HEAD", head], env=git_env)
    except GitCommandNotFound:
        raise UsageError("git is not installed; it is needed to read a repo.bundle or repo.fi", "install git") from None
    except GitCommandError as e:
        raise UsageError(f"{history}: cannot unpack the recorded history: {str(e.stderr).strip()[:300]}") from None
    return dest


def _files_under(d: Path) -> list[Path]:
    return sorted(p for p in d.rglob("*") if p.is_file() and not p.name.startswith("."))[:MAX_LOG_FILES]


def _deploys(scenario: Path, spec: ScenarioFile) -> list[Path]:
    if spec.deploys:
        return [(scenario / d).resolve() for d in spec.deploys]
    if (scenario / "deploys").is_dir():
        return _files_under(scenario / "deploys")
    return sorted(p for p in scenario.glob("deploys.*") if p.is_file())


def _logs(scenario: Path, spec: ScenarioFile) -> list[str]:
    if spec.logs:
        return [str((scenario / g).absolute()) for g in spec.logs]
    return [str(p.absolute()) for p in _files_under(scenario / "logs")] if (scenario / "logs").is_dir() else []


def _latest_log_time(logs: list[str], reference: datetime) -> datetime | None:
    """The recording ends at its last log line: the scenario's "now" when none is given.
    (`reference` only places year-less syslog stamps; scenario.yaml's `now` is better.)"""
    from incident.tools.timestamps import parse_timestamp

    latest: datetime | None = None
    for name in logs:
        path = Path(name)
        if not path.is_file() or path.suffix == ".gz":
            continue
        with path.open("rb") as f:
            f.seek(max(0, path.stat().st_size - 65536))
            tail = f.read().splitlines()[-20:]
        for line in reversed(tail):
            at = parse_timestamp(line, reference)
            if at is not None:
                latest = at if latest is None or at > latest else latest
                break
    return latest


# ---------------------------------------------------------------- the expectations


def _same_change(expected: str, actual: dict[str, Any] | None) -> bool:
    if not actual:
        return False
    if str(actual.get("id")) == expected:
        return True
    sha = actual.get("sha") or ""
    return len(expected) >= 7 and bool(sha) and sha.lower().startswith(expected.lower())


def _ref(actual: dict[str, Any] | None) -> str | None:
    if not actual:
        return None
    return f"{actual.get('id')}" + (f" ({str(actual['sha'])[:12]})" if actual.get("sha") else "")


def evaluate(expect: Expect, given: set[str], contract: dict[str, Any]) -> list[ExpectationResult]:
    out: list[ExpectationResult] = []
    if "onset" in given:
        actual = contract.get("onset")
        tol = expect.onset_tolerance_minutes
        ok = False
        if expect.onset is not None and actual:
            delta = abs((parse_when(actual) - to_utc(expect.onset)).total_seconds()) / 60
            ok = delta <= tol
        elif expect.onset is None:
            ok = actual is None
        out.append(ExpectationResult(name="onset", expected=iso(expect.onset), actual=actual, passed=ok, note=f"±{tol:g} min"))
    for key in ("suspect_change", "rollback_target"):
        if key in given:
            want = getattr(expect, key)
            got = contract.get(key)
            ok = got is None if want is None else _same_change(want, got)
            out.append(ExpectationResult(name=key.replace("_", " "), expected=want, actual=_ref(got), passed=ok))
    for key in ("classification", "severity"):
        if key in given:
            want = getattr(expect, key)
            out.append(ExpectationResult(name=key, expected=want, actual=contract.get(key), passed=contract.get(key) == want))
    if "runbook" in given:
        got_rb = (contract.get("runbook") or {}).get("id")
        reasons = "; ".join((contract.get("runbook") or {}).get("reasons") or [])
        out.append(ExpectationResult(name="runbook", expected=expect.runbook, actual=got_rb, passed=got_rb == expect.runbook, note=reasons))
    out += _verify_expectations(expect, given, contract)
    proposed = contract.get("mitigations") or []
    for cmd in expect.vetted_commands:
        hit = next((m for m in proposed if m.get("command") == cmd), None)
        ok = hit is not None and bool(hit.get("vetted"))
        found = "proposed, vetted" if ok else ("proposed but not vetted" if hit else "not proposed")
        note = "" if hit else "proposed: " + " | ".join(m["command"] for m in proposed if m.get("command"))[:400]
        out.append(ExpectationResult(name="vetted command", expected=cmd, actual=found, passed=ok, note=note))
    return out


def _verify_output(contract: dict[str, Any]) -> dict[str, Any]:
    return next((p.get("output") or {} for p in contract.get("phases") or [] if p.get("phase") == "verify"), {})


def _verify_expectations(expect: Expect, given: set[str], contract: dict[str, Any]) -> list[ExpectationResult]:
    verify = _verify_output(contract)
    out: list[ExpectationResult] = []
    if "verify_status" in given:
        got = verify.get("status")
        out.append(ExpectationResult(name="verify status", expected=expect.verify_status, actual=got,
                                     passed=got == expect.verify_status, note=str(verify.get("summary") or "")[:300]))
    checks = verify.get("checks") or []
    for key, want in expect.verify_checks.items():
        hit = next((c for c in checks if key in (c.get("description"), c.get("pattern"))), None)
        if hit is None:
            known = " | ".join(str(c.get("description") or c.get("pattern")) for c in checks)
            note = f"the verify phase measured: {known}" if known else "the verify phase measured no runbook check"
            out.append(ExpectationResult(name="verify check", expected=f"{key}: {want}", actual="not measured", passed=False, note=note[:400]))
            continue
        out.append(ExpectationResult(name="verify check", expected=f"{key}: {want}", actual=f"{key}: {hit.get('status')}",
                                     passed=hit.get("status") == want, note=str(hit.get("note") or "")[:300]))
    return out


# ---------------------------------------------------------------- the run


def dry_run(
    runbook: Path,
    scenario: Path,
    *,
    engine: str = "offline",
    settings: Settings,
    tolerance_minutes: float | None = None,
    clock: Clock = system_clock,
) -> DryRunReport:
    from incident.session import TriageRequest
    from incident.triage import run_triage

    if engine not in ("offline", "scripted"):
        raise UsageError(f"dry-run engine must be offline or scripted, not {engine!r}", "a dry-run must be repeatable: no live model")
    if not scenario.exists():
        raise NotFound(f"{scenario}: no such scenario folder", "give --scenario DIR holding expect.yaml, logs/, deploys/ and a repo")
    if not scenario.is_dir():
        raise UsageError(f"{scenario}: not a scenario folder", "give --scenario DIR holding expect.yaml, logs/, deploys/ and a repo")
    if not runbook.exists():
        raise NotFound(f"{runbook}: no such runbook file or directory", "give a runbook YAML file or a directory of them")
    scenario = scenario.resolve()
    expect, given = _load(scenario / "expect.yaml", Expect, required=True)
    if tolerance_minutes is not None:
        expect.onset_tolerance_minutes = tolerance_minutes
    if not given - {"onset_tolerance_minutes"}:
        raise UsageError(f"{scenario / 'expect.yaml'}: names no expectation", "give onset, suspect_change, rollback_target, runbook, vetted_commands, ...")
    spec, _ = _load(scenario / "scenario.yaml", ScenarioFile, required=False)
    scripted = scenario / "scripted"
    if engine == "scripted" and not scripted.is_dir():
        raise UsageError(f"{scripted}: no recorded answers", "record them with the scripted engine's format, or use --engine offline")
    with tempfile.TemporaryDirectory(prefix="incident-dryrun-") as tmpdir:
        tmp = Path(tmpdir)
        repo = _repo(scenario, spec, tmp)
        logs = _logs(scenario, spec)
        now = spec.now or _latest_log_time(logs, clock())
        if now is None:
            raise UsageError(f"{scenario}: no `now` for the recorded incident", "set now: in scenario.yaml (ISO 8601)")
        now = to_utc(now)
        deploys = _deploys(scenario, spec)
        formats = pair_formats(deploys, spec.deploys_format)
        req = TriageRequest(
            service=spec.service, symptom=spec.symptom, title=spec.title, alert=spec.alert,
            started=to_utc(spec.started) if spec.started else None,
            repo=repo, deploys=deploys, deploy_formats={str(p): f for p, f in zip(deploys, formats, strict=True) if f}, logs=logs,
            runbook_paths=[runbook.resolve()], engine="scripted" if engine == "scripted" else "offline", scripted_dir=scripted if engine == "scripted" else None,
            now=now, roots=[scenario, tmp], severity=None,
        )
        clock = fixed_clock(now)
        workspace = Workspace(tmp / "incidents", clock)
        resume = _record_mitigation(req, workspace, spec.mitigated_at, now) if spec.mitigated_at else None
        result = run_triage(req, settings=settings, workspace=workspace, clock=clock, ui=None, resume=resume)
        contract = result.contract()
    results = evaluate(expect, given, contract)
    return DryRunReport(
        runbook=str(runbook), scenario=str(scenario), engine=engine, incident_id=contract.get("incident_id"),
        expectations=results, notices=list(result.notices), passed=all(r.passed for r in results), triage=contract,
        verify_checks=list(_verify_output(contract).get("checks") or []),
    )


def _record_mitigation(req: Any, workspace: Workspace, at: datetime, now: datetime) -> str:
    """Open the incident and record the operator's mitigation time before the walk, as `incident
    mark ID mitigated --at T` would; the triage then continues it and verifies against that time."""
    from incident.comms import mark
    from incident.triage import start

    journal = start(req, workspace)
    mark(journal, "mitigated", at=to_utc(at), now=now)
    return journal.id


def junit_xml(report: DryRunReport) -> str:
    import xml.etree.ElementTree as ET

    suite_name = f"incident runbook dry-run {Path(report.scenario).name}"
    root = ET.Element("testsuites", name=suite_name)
    failures = sum(not e.passed for e in report.expectations)
    ts = ET.SubElement(root, "testsuite", name=suite_name, tests=str(len(report.expectations)), failures=str(failures), errors="0")
    for i, e in enumerate(report.expectations):
        tc = ET.SubElement(ts, "testcase", classname=Path(report.scenario).name, name=f"{i + 1:02d} {e.name}: {e.expected}")
        if not e.passed:
            f = ET.SubElement(tc, "failure", message=f"expected {e.expected}, got {e.actual}", type="expectation")
            f.text = e.note
    root.set("tests", str(len(report.expectations)))
    root.set("failures", str(failures))
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


