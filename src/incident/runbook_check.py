"""`incident runbook check`: prove every runbook loads, renders and says what it does, in CI.

Errors fail the check (exit 1); warnings (stale review, overlapping match rules, a runbook that
matches nothing) are shown but do not.
"""

from __future__ import annotations

import shlex
from datetime import UTC, date, datetime, timedelta
from itertools import combinations
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from incident.actions import (
    PLACEHOLDERS,
    TemplateError,
    is_destructive,
    render_command,
    template_placeholders,
)
from incident.config import Settings
from incident.models import SCHEMA_VERSION, Evidence
from incident.runbooks import Problem, Runbook, load_runbooks, runbook_brief, runbook_files


class CheckReport(BaseModel):
    schema_version: int = SCHEMA_VERSION
    files: list[str] = Field(default_factory=list)
    runbooks: list[str] = Field(default_factory=list)  # ids that loaded
    problems: list[Problem] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)  # checks that could not run, and why

    @property
    def errors(self) -> int:
        return sum(p.severity == "error" for p in self.problems)

    @property
    def warnings(self) -> int:
        return sum(p.severity == "warning" for p in self.problems)

    @property
    def ok(self) -> bool:
        return self.errors == 0

    def summary(self) -> dict[str, Any]:
        return {**self.model_dump(mode="json"), "errors": self.errors, "warnings": self.warnings, "ok": self.ok}


def sample_values(rb: Runbook) -> dict[str, Any]:
    """Values shaped like the session's, from each placeholder's sample."""
    values: dict[str, Any] = {"vars": dict(rb.vars)}
    for name, spec in PLACEHOLDERS.items():
        head, _, tail = name.partition(".")
        if tail:
            values.setdefault(head, {})[tail] = spec.sample
        else:
            values[head] = spec.sample
    return values


def _problem(rb: Runbook, loc: tuple[Any, ...], message: str, code: str, severity: str = "error") -> Problem:
    line, col = rb.position(loc)
    return Problem(file=rb.file, line=line, column=col, message=message, severity=severity, code=code, runbook_id=rb.id)  # type: ignore[arg-type]


def check_commands(rb: Runbook) -> list[Problem]:
    out: list[Problem] = []
    values = sample_values(rb)
    for i, m in enumerate(rb.mitigations):
        if m.command is None:
            continue
        loc = ("mitigations", i, "command")
        where = f"mitigations[{i}] ({m.action})"
        if "\n" in m.command.strip() or "\r" in m.command:
            out.append(_problem(rb, loc, f"{where}: a command is one line (use YAML's folded `>-` style to wrap it)", "template"))
            continue
        # The raw template is judged too, so a destructive command is flagged even when its
        # placeholders are broken.
        destructive_template = is_destructive(m.command)
        if destructive_template and not m.destructive:
            out.append(_unmarked(rb, i, where, m.command))
        try:
            names = template_placeholders(m.command)
        except TemplateError as e:
            out.append(_problem(rb, loc, f"{where}: {e}", "template"))
            continue
        bad = False
        for name in dict.fromkeys(names):
            if name.startswith("vars.") and name.count(".") == 1:
                if name[5:] not in rb.vars:
                    out.append(_problem(rb, loc, f"{where}: {{{{ {name} }}}} is not defined under `vars:`", "placeholder"))
                    bad = True
            elif name not in PLACEHOLDERS:
                known = ", ".join(f"{{{{ {n} }}}}" for n in PLACEHOLDERS)
                out.append(_problem(rb, loc, f"{where}: unknown placeholder {{{{ {name} }}}} (known: {known}, {{{{ vars.NAME }}}})", "placeholder"))
                bad = True
        if bad:
            continue
        rendered, problems = render_command(m.command, values)
        if rendered is None:
            out.extend(_problem(rb, loc, f"{where}: {p}", "command-parse" if "parse" in p else "template") for p in problems)
            continue
        words = shlex.split(rendered)
        if not words:
            out.append(_problem(rb, loc, f"{where}: the command is empty", "command-parse"))
        if not destructive_template and is_destructive(rendered) and not m.destructive:
            out.append(_unmarked(rb, i, where, rendered))
    return out


def _unmarked(rb: Runbook, i: int, where: str, command: str) -> Problem:
    return _problem(
        rb, ("mitigations", i),
        f"{where}: `{command}` looks destructive; mark it `destructive: true` so reviewers and operators see it",
        "destructive-unmarked",
    )


def check_freshness(rb: Runbook, today: date, stale_days: int) -> list[Problem]:
    age = (today - rb.reviewed_at).days
    if age > stale_days:
        return [_problem(rb, ("reviewed_at",), f"last reviewed {age} days ago (older than {stale_days}); check it still works and update reviewed_at", "stale", "warning")]
    if age < 0:
        return [_problem(rb, ("reviewed_at",), f"reviewed_at {rb.reviewed_at} is in the future", "future-review", "warning")]
    return []


def check_verify(rb: Runbook, *, rg: str | None, settings: Settings | None = None) -> list[Problem]:
    """Every verify pattern can run (and count only lines that show something); a runbook whose
    checks no log source feeds is flagged, when a config says which logs each service has."""
    from incident.verify_patterns import engine_for

    out: list[Problem] = []
    for i, v in enumerate(rb.verify):
        engine, problem = engine_for(v.pattern, rg=rg)
        if problem is not None:
            # Without ripgrep here a pattern only Python refuses may still run where rg is installed.
            severity = "error" if rg is not None or "empty string" in problem else "warning"
            out.append(_problem(rb, ("verify", i, "pattern"), f"verify[{i}] ({v.description or v.pattern}): {problem}", "verify-pattern", severity))
    if rb.verify and not rb.sources.logs and settings is not None and settings.config_file:
        services = [svc for svc in settings.services if not rb.match.services or svc.name in rb.match.services]
        if not any(svc.logs for svc in services):
            where = ", ".join(rb.match.services) or "any service"
            out.append(_problem(
                rb, ("verify",),
                f"{len(rb.verify)} verify check(s) but no log source: `sources.logs` is empty and {Path(settings.config_file).name} "
                f"names no logs for {where}; the checks are measured only when a triage is given --logs",
                "verify-no-logs", "warning",
            ))
    return out


def _signature(rb: Runbook) -> tuple[Any, ...]:
    m = rb.match
    return (frozenset(a.lower() for a in m.alerts), frozenset(k.lower().strip() for k in m.keywords), m.symptom_regex)


def check_overlaps(runbooks: list[Runbook]) -> list[Problem]:
    out: list[Problem] = []
    for a, b in combinations(sorted(runbooks, key=lambda r: r.id), 2):
        shared = sorted(set(a.match.services) & set(b.match.services))
        both_generic = not a.match.services and not b.match.services and not a.match.is_empty()
        if (shared or both_generic) and _signature(a) == _signature(b):
            scope = f"service {', '.join(shared)}" if shared else "any service"
            out.append(
                _problem(
                    b, ("match", "__key__"),
                    f"runbooks {a.id} ({a.file}) and {b.id} match {scope} with the same alerts and keywords; "
                    f"the triage would always pick {a.id}. Give one a distinguishing alert, keyword or symptom_regex",
                    "overlap", "warning",
                )
            )
    return out


def check_prompts(rb: Runbook, prompts_dir: Path | None) -> tuple[list[Problem], str | None]:
    """Render every phase prompt with this runbook in the brief, as the triage would."""
    try:
        from incident import prompts
        from incident.actions import render_runbook_commands
        from incident.digest import prompt_context
        from incident.engines.base import Brief
        from incident.phases import PHASES
    except ImportError as e:
        return [], f"prompt rendering skipped: {e}"
    now = datetime(2026, 1, 1, tzinfo=UTC)
    commands, _ = render_runbook_commands(rb, sample_values(rb))
    brief = Brief(
        incident_id="2026-01-01-sample", title="sample incident", service=next(iter(rb.match.services), "sample"),
        symptom="sample symptom", now=now, evidence=Evidence(now=now, window_start=now - timedelta(hours=1), window_end=now),
        runbook_id=rb.id, runbook_summary=runbook_brief(rb, ["sample match"]), vetted_commands=commands,
    )
    out: list[Problem] = []
    for spec in PHASES.values():
        try:
            text = prompts.render(spec.template, prompt_context(spec, brief), override_dir=prompts_dir)
        except FileNotFoundError as e:
            return [], f"prompt rendering skipped: {e}"
        except Exception as e:  # any template failure is this check's finding, not a crash
            if type(e).__name__ == "TemplateNotFound":
                return [], f"prompt rendering skipped: template {e} not found"
            out.append(_problem(rb, (), f"prompt {spec.template} does not render with this runbook: {type(e).__name__}: {e}", "prompt"))
            continue
        if rb.id not in text:
            out.append(_problem(rb, (), f"prompt {spec.template} does not show the matched runbook", "prompt", "warning"))
    return out, None


def check_runbooks(
    paths: list[Path], *, today: date, stale_days: int = 180, prompts_dir: Path | None = None, prompts: bool = True,
    settings: Settings | None = None,
) -> CheckReport:
    """`settings`: the team's config, to say which verify checks no log source feeds (None: not judged)."""
    from incident.tools.logscan import find_rg

    rg = find_rg()
    files, _ = runbook_files(paths)
    runbooks, problems = load_runbooks(paths)
    report = CheckReport(files=[str(f) for f in files], runbooks=[r.id for r in runbooks])
    if not files and not problems:
        problems.append(Problem(file=", ".join(str(p) for p in paths) or ".", message="no runbook files (*.yaml, *.yml) found", code="empty"))
    skipped: set[str] = set()
    for rb in runbooks:
        if rb.match.is_empty():
            problems.append(_problem(rb, ("id",), "no match rules: the triage will never pick this runbook", "no-match-rules", "warning"))
        problems.extend(check_commands(rb))
        problems.extend(check_freshness(rb, today, stale_days))
        problems.extend(check_verify(rb, rg=rg, settings=settings))
        if prompts:
            found, skip = check_prompts(rb, prompts_dir)
            problems.extend(found)
            if skip:
                skipped.add(skip)
    problems.extend(check_overlaps(runbooks))
    if rg is None and any(rb.verify for rb in runbooks):
        skipped.add("ripgrep not found: verify patterns were checked against Python's regex engine only")
    report.problems = sorted(problems, key=lambda p: (p.file, p.line, p.column, p.code))
    report.skipped = sorted(skipped)
    return report


# ---------------------------------------------------------------- machine formats


def _gh_escape(text: str, *, prop: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def github_annotations(report: CheckReport, *, relative_to: Path | None = None) -> list[str]:
    """GitHub Actions workflow commands: `::error file=…,line=…,col=…,title=…::message`."""
    lines = []
    for p in report.problems:
        file = p.file
        if relative_to is not None:
            try:
                file = str(Path(p.file).resolve().relative_to(relative_to.resolve()))
            except ValueError:
                pass
        props = [f"file={_gh_escape(file, prop=True)}"]
        if p.line:
            props += [f"line={p.line}", f"col={p.column or 1}"]
        props.append(f"title={_gh_escape('incident runbook check: ' + p.code, prop=True)}")
        lines.append(f"::{p.severity} {','.join(props)}::{_gh_escape(p.message)}")
    return lines


def junit_xml(report: CheckReport, *, suite: str = "incident runbook check") -> str:
    """One testcase per runbook file; errors are failures, warnings go to system-out."""
    import xml.etree.ElementTree as ET

    by_file: dict[str, list[Problem]] = {f: [] for f in report.files}
    for p in report.problems:
        by_file.setdefault(p.file, []).append(p)
    root = ET.Element("testsuites", name=suite)
    ts = ET.SubElement(root, "testsuite", name=suite, tests=str(len(by_file)), failures="0", errors="0", skipped="0")
    failures = 0
    for file, probs in by_file.items():
        tc = ET.SubElement(ts, "testcase", classname="runbook", name=file)
        errs = [p for p in probs if p.severity == "error"]
        if errs:
            failures += 1
            f = ET.SubElement(tc, "failure", message=f"{len(errs)} error(s)", type="runbook")
            f.text = "\n".join(f"{p.where()}: {p.code}: {p.message}" for p in errs)
        warns = [p for p in probs if p.severity == "warning"]
        if warns:
            ET.SubElement(tc, "system-out").text = "\n".join(f"{p.where()}: warning: {p.code}: {p.message}" for p in warns)
    ts.set("failures", str(failures))
    root.set("tests", str(len(by_file)))
    root.set("failures", str(failures))
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
