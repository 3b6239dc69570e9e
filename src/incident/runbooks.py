"""Runbooks as code: the YAML format, loading with file:line:column errors, and matching.

A runbook is reviewed team knowledge: how to recognise one failure and which commands stop
it. Its command templates are rendered by `incident.actions` (placeholders checked and
quoted); nothing here runs anything.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from incident.errors import UsageError
from incident.models import ProposedCommand, Severity
from incident.yaml_load import MAX_YAML_BYTES, Problem, load_yaml_model

MAX_RUNBOOK_BYTES = MAX_YAML_BYTES
MAX_PATTERN_CHARS = 500
MAX_MATCH_TEXT = 2_000  # symptom/title characters a regex ever sees, so a slow pattern stays bounded

CommandKind = Literal["rollback", "feature-flag", "scale", "rate-limit", "restart", "hotfix", "failover", "data-fix", "other"]
# Kept in step with ProposedCommand.kind, so a runbook mitigation maps onto it one to one.
assert CommandKind.__args__ == ProposedCommand.model_fields["kind"].annotation.__args__  # type: ignore[attr-defined,union-attr]  # Literal introspection

_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,80}")


# ---------------------------------------------------------------- safe regexes


def safe_regex(pattern: str) -> re.Pattern[str]:
    """Compile a runbook regex, refusing ones that are too long or can backtrack exponentially.

    Nested unbounded repeats such as `(a+)+` are the classic catastrophic case; Python's `re`
    has no timeout, so they are refused up front and the text they see is capped too.
    """
    if len(pattern) > MAX_PATTERN_CHARS:
        raise ValueError(f"regex longer than {MAX_PATTERN_CHARS} characters")
    try:
        compiled = re.compile(pattern, re.IGNORECASE)
    except re.error as e:
        raise ValueError(f"not a valid regex: {e}") from None
    if _nested_unbounded(pattern):
        raise ValueError(
            "regex nests a variable repeat inside an unbounded one (like `(a+)+`), which can take exponential time; "
            "rewrite it or use a possessive quantifier (`(a++)+`)"
        )
    return compiled


def _nested_unbounded(pattern: str) -> bool:
    """Does an unbounded repeat contain a repeat of variable width (`(a+)+`, `(a{1,3})*`)?

    Possessive repeats and atomic groups cannot backtrack, so they are the way out.
    """
    try:
        from re import _constants as c  # type: ignore[attr-defined]  # stdlib parser: the only way to see the tree
        from re import _parser as p  # type: ignore[attr-defined]
    except ImportError:  # pragma: no cover - a future Python moved them: fall back to a rough textual test
        return bool(re.search(r"\([^)]*[+*}][^)]*\)\s*[+*{]", pattern))

    possessive = getattr(c, "POSSESSIVE_REPEAT", None)
    atomic = getattr(c, "ATOMIC_GROUP", None)

    def walk(items: Any, inside_unbounded: bool) -> bool:
        for op, av in items:
            if op in (c.MAX_REPEAT, c.MIN_REPEAT):
                lo, hi, sub = av
                if inside_unbounded and lo != hi:
                    return True
                if walk(sub, inside_unbounded or hi == c.MAXREPEAT):
                    return True
            elif op == c.SUBPATTERN:
                if walk(av[-1], inside_unbounded):
                    return True
            elif op == c.BRANCH:
                if any(walk(b, inside_unbounded) for b in av[1]):
                    return True
            elif op in (c.ASSERT, c.ASSERT_NOT):
                if walk(av[1], inside_unbounded):
                    return True
            elif op in (possessive, atomic) and op is not None:
                sub = av[-1] if op == possessive else av
                if walk(sub, False):
                    return True
        return False

    return walk(p.parse(pattern), False)


@functools.lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    try:
        return safe_regex(pattern)
    except ValueError:
        return None  # refused at load; a runbook built around validation never gets to run it


# ---------------------------------------------------------------- the format


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MatchRules(_Strict):
    """When this runbook applies. Listing services restricts it to them; the rest add evidence."""

    services: list[str] = Field(default_factory=list, description="Service names, matched exactly.")
    alerts: list[str] = Field(default_factory=list, description="Alert names; shell-style globs allowed (HighErrorRate*).")
    keywords: list[str] = Field(default_factory=list, description="Words looked for in the symptom and title, any case.")
    symptom_regex: str | None = Field(default=None, description="A regex tried against the symptom and title, any case.")

    @field_validator("symptom_regex")
    @classmethod
    def _regex(cls, v: str | None) -> str | None:
        if v is not None:
            safe_regex(v)
        return v

    @field_validator("keywords", "services", "alerts")
    @classmethod
    def _non_empty(cls, v: list[str]) -> list[str]:
        if any(not s.strip() for s in v):
            raise ValueError("empty entries are not allowed")
        return v

    def is_empty(self) -> bool:
        return not (self.services or self.alerts or self.keywords or self.symptom_regex)


class DeploySourceRef(_Strict):
    path: str
    format: str | None = Field(
        default=None, description="jsonl, csv, helm, argocd, heroku, github, flux, git-tags; omit (or auto) to detect."
    )

    @field_validator("format")
    @classmethod
    def _known_format(cls, v: str | None) -> str | None:
        from incident.tools.deploy_sources import check_format

        try:
            return check_format(v)
        except UsageError as e:
            raise ValueError(f"{e.message}; {e.hint}") from None


class Sources(_Strict):
    """Where the evidence for this failure lives, when it differs from the service's config."""

    repo: str | None = None
    logs: list[str] = Field(default_factory=list, description="Log file globs.")
    deploys: list[DeploySourceRef] = Field(default_factory=list, description="One deploy source or a list of them.")

    @field_validator("deploys", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        if v is None:
            return []
        if isinstance(v, (str, dict)):
            v = [v]
        return [{"path": x} if isinstance(x, str) else x for x in v] if isinstance(v, list) else v


class Signal(_Strict):
    pattern: str = Field(description="A regex over log lines that indicates this failure.")
    meaning: str = ""

    @field_validator("pattern")
    @classmethod
    def _regex(cls, v: str) -> str:
        safe_regex(v)
        return v


class Mitigation(_Strict):
    action: str
    kind: CommandKind = "other"
    command: str | None = Field(
        default=None,
        description="A one-line command template. Placeholders: {{ service }}, {{ environment }}, {{ incident.id }}, "
        "{{ rollback.revision|sha|version }}, {{ suspect.revision|sha|version }}, {{ vars.NAME }}.",
    )
    expected_effect: str = ""
    risk: str = ""
    reversibility: str = ""
    time_to_effect: str = ""
    destructive: bool = False


class VerifyCheck(_Strict):
    """After the mitigation, lines matching `pattern` must fall below `max_per_minute` within `within_minutes`."""

    description: str = ""
    pattern: str
    max_per_minute: float = Field(ge=0)
    within_minutes: int = Field(default=10, ge=1, le=24 * 60)

    @field_validator("pattern")
    @classmethod
    def _regex(cls, v: str) -> str:
        safe_regex(v)
        return v


class Runbook(_Strict):
    id: str = Field(description="Unique id, e.g. checkout-deploy.")
    title: str
    owner: str = Field(description="The team that keeps this runbook true.")
    reviewed_at: date = Field(description="When a human last checked it works; stale after runbook_stale_days.")
    match: MatchRules = Field(default_factory=MatchRules)
    severity_hint: Severity | None = None
    vars: dict[str, str] = Field(default_factory=dict, description="Constants the team sets, used as {{ vars.NAME }}.")
    sources: Sources = Field(default_factory=Sources)
    signals: list[Signal] = Field(default_factory=list)
    mitigations: list[Mitigation] = Field(default_factory=list, description="Best first.")
    verify: list[VerifyCheck] = Field(default_factory=list)
    escalation: list[str] = Field(default_factory=list, description="Who to page, as text. Nothing is paged.")
    links: list[str] = Field(default_factory=list)

    _file: str = PrivateAttr(default="")
    _positions: dict[tuple[Any, ...], tuple[int, int]] = PrivateAttr(default_factory=dict)

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _ID.fullmatch(v):
            raise ValueError("an id is letters, digits, '.', '_' or '-', starting with a letter or digit")
        return v

    @field_validator("vars")
    @classmethod
    def _vars(cls, v: dict[str, str]) -> dict[str, str]:
        from incident.actions import VAR_VALUE

        for name, value in v.items():
            if not _VAR_NAME.fullmatch(name):
                raise ValueError(f"variable name {name!r} must be a Python-style identifier")
            if not VAR_VALUE.fullmatch(value):
                raise ValueError(
                    f"vars.{name} = {value!r}: values are letters, digits and . _ : / @ + = , - "
                    "(no spaces, not starting with '-'), at most 128 characters"
                )
        return v

    @property
    def file(self) -> str:
        return self._file

    def position(self, loc: tuple[Any, ...]) -> tuple[int, int]:
        """The (line, column) of `loc` in the source file, or of its nearest ancestor."""
        loc = tuple(loc)
        while loc:
            if loc in self._positions:
                return self._positions[loc]
            loc = loc[:-1]
        return self._positions.get((), (0, 0))


def json_schema() -> dict[str, Any]:
    schema = Runbook.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema, "title": "incident runbook"}


# ---------------------------------------------------------------- loading


def load_runbook_file(path: Path) -> tuple[Runbook | None, list[Problem]]:
    """Load one runbook file. Every problem carries file:line:column."""
    rb, problems, positions = load_yaml_model(path, Runbook)
    if rb is not None:
        rb._file = str(path)
        rb._positions = positions
    return rb, problems


def runbook_files(paths: list[Path]) -> tuple[list[Path], list[Problem]]:
    files: list[Path] = []
    problems: list[Problem] = []
    for p in paths:
        if p.is_dir():
            files.extend(sorted(f for f in p.iterdir() if f.suffix in (".yaml", ".yml") and f.is_file()))
        elif p.is_file():
            files.append(p)
        else:
            problems.append(Problem(file=str(p), message="no such file or directory", code="not-found"))
    return list(dict.fromkeys(files)), problems


def load_runbooks(paths: list[Path]) -> tuple[list[Runbook], list[Problem]]:
    """Load runbooks from files and directories (*.yaml, *.yml). A later duplicate id is refused."""
    files, problems = runbook_files(paths)
    runbooks: list[Runbook] = []
    by_id: dict[str, Runbook] = {}
    for f in files:
        rb, probs = load_runbook_file(f)
        problems.extend(probs)
        if rb is None:
            continue
        if rb.id in by_id:
            line, col = rb.position(("id",))
            problems.append(
                Problem(
                    file=rb.file, line=line, column=col, code="duplicate-id", runbook_id=rb.id,
                    message=f"duplicate runbook id {rb.id!r} (first in {by_id[rb.id].file}); this one is ignored",
                )
            )
            continue
        by_id[rb.id] = rb
        runbooks.append(rb)
    return runbooks, problems


# ---------------------------------------------------------------- matching


@dataclass
class RunbookMatch:
    runbook: Runbook
    score: int
    reasons: list[str] = field(default_factory=list)


SCORE_SERVICE = 100
SCORE_ALERT = 80
SCORE_REGEX = 30
SCORE_KEYWORD = 10


def _keyword_hit(keyword: str, text: str) -> bool:
    # Anchored on the left only: keyword '500' finds "500s", 'timeout' finds "timeouts",
    # but 'oom' does not find "room".
    return re.search(r"(?<![A-Za-z0-9])" + re.escape(keyword.strip()), text, re.IGNORECASE) is not None


def match_one(rb: Runbook, *, service: str | None, alert: str | None, symptom: str | None, title: str | None = None) -> RunbookMatch | None:
    rules = rb.match
    if rules.services and service and service not in rules.services:
        return None  # written for other services
    score, reasons = 0, []
    if service and service in rules.services:
        score += SCORE_SERVICE
        reasons.append(f"service {service}")
    if alert:
        hit = next((a for a in rules.alerts if fnmatch.fnmatchcase(alert, a) or a.lower() == alert.lower()), None)
        if hit:
            score += SCORE_ALERT
            reasons.append(f"alert {alert}" if hit == alert else f"alert {alert} (rule {hit!r})")
    text = " \n ".join(t[:MAX_MATCH_TEXT] for t in (symptom, title) if t)
    if text:
        for kw in rules.keywords:
            if _keyword_hit(kw, text):
                score += SCORE_KEYWORD
                reasons.append(f"keyword {kw.strip()!r}")
        rx = _compiled(rules.symptom_regex) if rules.symptom_regex else None
        if rx is not None and rx.search(text):
            score += SCORE_REGEX
            reasons.append(f"symptom matches /{rules.symptom_regex}/")
    return RunbookMatch(rb, score, reasons) if score else None


def match_runbooks(
    runbooks: list[Runbook], *, service: str | None, alert: str | None, symptom: str | None, title: str | None = None
) -> list[RunbookMatch]:
    """Runbooks that apply to this incident, best first (ties by id, so the order is stable)."""
    out = [m for rb in runbooks if (m := match_one(rb, service=service, alert=alert, symptom=symptom, title=title))]
    return sorted(out, key=lambda m: (-m.score, m.runbook.id))


def runbook_brief(rb: Runbook, reasons: list[str]) -> str:
    """A short text for prompts and the operator: what it is, why it matched, what to look for."""
    lines = [f"Runbook {rb.id}: {rb.title} (owner: {rb.owner}, reviewed {rb.reviewed_at.isoformat()})"]
    if reasons:
        lines.append("Matched because: " + "; ".join(reasons))
    if rb.severity_hint:
        lines.append(f"Severity hint: {rb.severity_hint}")
    if rb.signals:
        lines.append("Signals of this failure:")
        lines.extend(f"- /{s.pattern}/" + (f" — {s.meaning}" if s.meaning else "") for s in rb.signals)
    if rb.mitigations:
        lines.append("Vetted mitigations (best first):")
        lines.extend(f"- {m.action} [{m.kind}]" + (" (destructive)" if m.destructive else "") for m in rb.mitigations)
    if rb.verify:
        lines.append("Verify after mitigating:")
        lines.extend(
            f"- {v.description or v.pattern}: /{v.pattern}/ below {v.max_per_minute:g}/min within {v.within_minutes} min"
            for v in rb.verify
        )
    if rb.escalation:
        lines.append("Escalation: " + "; ".join(rb.escalation))
    if rb.links:
        lines.append("Links: " + " ".join(rb.links))
    return "\n".join(lines)
