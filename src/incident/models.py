"""Domain types shared by the toolbox, the engines, the session and the reports.

Everything here is plain pydantic data: no I/O, no behaviour beyond small derived values.
Datetimes are always timezone-aware UTC (see `clock.to_utc`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from incident.clock import to_utc

SCHEMA_VERSION = 1

Severity = Literal["SEV-1", "SEV-2", "SEV-3", "SEV-4"]
Classification = Literal["active", "degraded", "post-incident"]
PhaseName = Literal["classify", "assess", "contain", "diagnose", "fix", "verify", "review"]
PHASE_ORDER: tuple[PhaseName, ...] = ("classify", "assess", "contain", "diagnose", "fix", "verify", "review")
RootCauseCategory = Literal[
    "code defect",
    "configuration error",
    "data integrity issue",
    "infrastructure / capacity issue",
    "external dependency failure",
    "process / human error",
    "unknown",
]
Priority = Literal["P0", "P1", "P2", "P3"]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="after")
    @classmethod
    def _utc(cls, v: Any) -> Any:
        return to_utc(v) if isinstance(v, datetime) else v


# ---------------------------------------------------------------- evidence: git and deploys


class Commit(Model):
    sha: str
    authored_at: datetime
    author: str
    subject: str
    files: list[str] = Field(default_factory=list)


DeployStatus = Literal["succeeded", "failed", "in_progress", "rolled_back", "unknown"]


class Deploy(Model):
    """One deploy, normalised from any source (helm, Argo CD, Heroku, GitHub, a deploy log, tags).

    `id` is the deploy's own identifier in its source: helm revision, Argo CD history id,
    Heroku version, GitHub deployment id, the log's `id`/`version`, or the tag name.
    """

    id: str
    service: str | None = None
    environment: str | None = None
    version: str | None = None
    sha: str | None = None
    started_at: datetime
    finished_at: datetime | None = None
    status: DeployStatus = "unknown"
    actor: str | None = None
    description: str | None = None
    rollback_of: str | None = None
    source: str = "unknown"  # the format it was read from: jsonl, csv, helm, argocd, heroku, github, flux, git-tags

    @property
    def succeeded(self) -> bool:
        # A deploy whose source does not say is taken as successful: most deploy logs only
        # record what went out.
        return self.status in ("succeeded", "unknown", "rolled_back")


# ---------------------------------------------------------------- evidence: logs


class SearchHit(Model):
    path: str
    line_no: int
    at: datetime | None = None
    text: str
    before: list[str] = Field(default_factory=list)
    after: list[str] = Field(default_factory=list)


class TimelineBucket(Model):
    at: datetime  # start of the bucket (UTC)
    errors: int = 0
    total: int = 0


class ErrorTimeline(Model):
    """Errors per bucket over a window, the baseline before the rise and the onset."""

    bucket_seconds: int = 60
    start: datetime | None = None
    end: datetime | None = None
    buckets: list[TimelineBucket] = Field(default_factory=list)
    baseline_errors_per_min: float = 0.0
    baseline_error_ratio: float | None = None  # errors / lines, when totals are known
    onset: datetime | None = None  # first minute of a sustained rise over the baseline
    peak_errors_per_min: float = 0.0
    recent_errors_per_min: float = 0.0  # the last few buckets of the window
    recent_error_ratio: float | None = None
    peak_error_ratio: float | None = None
    still_elevated: bool = False  # is the rate still over the baseline at the end of the window?
    recovered_at: datetime | None = None  # first minute back at baseline after the onset, if any
    total_lines: int = 0
    error_lines: int = 0
    lines_without_time: int = 0
    files: list[str] = Field(default_factory=list)


class LatencyMinute(Model):
    at: datetime  # start of the minute (UTC)
    count: int = 0  # requests with a duration in the minute
    p50_ms: float | None = None  # None when too few requests for a percentile
    p95_ms: float | None = None
    p99_ms: float | None = None


class EndpointLatency(Model):
    name: str
    count: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None
    baseline_p95_ms: float | None = None  # the same endpoint before the latency onset
    baseline_count: int = 0


class LatencyProfile(Model):
    """Request durations per minute over a window (from a bounded sketch: within 2%), the
    baseline p95 and the onset of a sustained rise; `endpoints` compare after vs before it."""

    start: datetime | None = None
    end: datetime | None = None
    minutes: list[LatencyMinute] = Field(default_factory=list)
    requests: int = 0
    sources: list[str] = Field(default_factory=list)  # per file: where the duration was read from
    endpoint: str | None = None  # only this endpoint's requests were read
    baseline_p50_ms: float | None = None
    baseline_p95_ms: float | None = None
    onset: datetime | None = None  # first minute of a sustained p95 rise (3x baseline, 5 min)
    peak_p95_ms: float | None = None
    peak_at: datetime | None = None
    recent_p50_ms: float | None = None
    recent_p95_ms: float | None = None  # the last few minutes with data
    still_elevated: bool = False
    recovered_at: datetime | None = None
    endpoints: list[EndpointLatency] = Field(default_factory=list)  # slowed most first


class LogPattern(Model):
    template: str
    count: int
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    level: str | None = None
    sample: str = ""
    new: bool = False  # first seen at/after `new_since`, absent from the baseline before it
    count_before: int = 0  # occurrences before `new_since`


class SourceNote(Model):
    """What a tool read or refused, shown to the operator in the header and the report."""

    kind: Literal["repo", "deploys", "logs", "runbook"]
    path: str
    detail: str = ""
    refused: bool = False
    reason: str = ""
    hint: str = ""


# ---------------------------------------------------------------- actions


class ProposedCommand(Model):
    """A write action. It is printed for the human to run; nothing in this program runs it."""

    action: str
    command: str | None = None
    expected_effect: str = ""
    risk: str = ""
    reversibility: str = ""
    time_to_effect: str = ""
    vetted: bool = False  # rendered from a runbook template, placeholders filled and quoted
    destructive: bool = False
    runbook_id: str | None = None
    kind: Literal[
        "rollback", "feature-flag", "scale", "rate-limit", "restart", "hotfix", "failover", "data-fix", "other"
    ] = "other"


# ---------------------------------------------------------------- phase outputs


class ChangeRef(Model):
    """A change in the window before onset: a deploy or a commit."""

    kind: Literal["deploy", "commit"]
    id: str
    sha: str | None = None
    service: str | None = None
    at: datetime
    summary: str = ""
    minutes_before_onset: float | None = None
    evidence: list[str] = Field(default_factory=list)


class RollbackTarget(Model):
    id: str
    sha: str | None = None
    at: datetime
    service: str | None = None
    version: str | None = None


class PatternRef(Model):
    template: str
    count: int
    first_seen: datetime | None = None


class PhaseOutput(Model):
    summary: str = ""
    citations: list[str] = Field(default_factory=list)  # tool calls / evidence the conclusions rest on


class ClassifyOutput(PhaseOutput):
    classification: Classification
    severity: Severity
    severity_reason: str = ""
    start_phase: PhaseName = "assess"
    error_ratio_now: float | None = None
    baseline_error_ratio: float | None = None
    still_elevated: bool | None = None


class BlastRadius(Model):
    error_ratio: float | None = None  # share of requests/lines failing since onset
    errors_since_onset: int = 0
    affected: list[str] = Field(default_factory=list)  # endpoints/services/hosts the errors name
    trend: Literal["worsening", "stable", "improving", "recovered", "unknown"] = "unknown"
    latency: str = ""  # e.g. "p95 1.9 s vs 120 ms baseline on /api/checkout", when requests slowed


class AssessOutput(PhaseOutput):
    broken: str = ""
    onset: datetime | None = None
    blast_radius: BlastRadius = Field(default_factory=BlastRadius)
    changes: list[ChangeRef] = Field(default_factory=list)  # affected service's deploys, others, commits
    suspect_change: ChangeRef | None = None
    rollback_target: RollbackTarget | None = None
    likely_trigger: Literal["recent change", "external factor", "unknown"] = "unknown"
    new_error_patterns: list[PatternRef] = Field(default_factory=list)
    still_working: list[str] = Field(default_factory=list)
    needs_from_operator: list[str] = Field(default_factory=list)


class ContainOutput(PhaseOutput):
    mitigations: list[ProposedCommand] = Field(default_factory=list)  # ranked, best first
    rollback_first: bool = False
    note: str = ""  # e.g. why a rollback is not recommended first


class DiagnoseOutput(PhaseOutput):
    root_cause: str = "unknown"
    trigger: str = "unknown"
    mechanism: str = "unknown"
    impact: str = "unknown"
    why_not_caught: str = ""
    category: RootCauseCategory = "unknown"
    implicated_files: list[str] = Field(default_factory=list)
    contributing_factors: list[str] = Field(default_factory=list)
    related_risks: list[str] = Field(default_factory=list)
    mitigation_sufficient: bool | None = None
    # A post-incident triage skips assess; diagnose then carries what assess would have found,
    # so the report and the JSON contract still name the onset, the change and the way back.
    onset: datetime | None = None
    suspect_change: ChangeRef | None = None
    rollback_target: RollbackTarget | None = None
    new_error_patterns: list[PatternRef] = Field(default_factory=list)


class FixOutput(PhaseOutput):
    plan: list[str] = Field(default_factory=list)
    files_to_change: list[str] = Field(default_factory=list)
    tests_to_add: list[str] = Field(default_factory=list)
    mitigation_removable_after_fix: bool | None = None
    too_risky_for_hotfix: bool = False
    not_addressed: list[str] = Field(default_factory=list)


CheckStatus = Literal["pass", "fail", "pending", "unknown"]


class VerifyCheckResult(Model):
    """One runbook verify check measured on the logs after the mitigation (see `verify_checks`).

    Counts are log records (a line and its stack trace) matching the pattern, per whole minute.
    """

    description: str = ""
    pattern: str
    max_per_minute: float
    within_minutes: int
    status: CheckStatus = "unknown"
    deadline: datetime | None = None  # mitigation + within_minutes
    deadline_reached: bool = False  # a whole minute of logs at or after the deadline was read
    last_minute_at: datetime | None = None
    last_minute_count: int | None = None
    worst_minute_at: datetime | None = None  # the worst whole minute at or after the deadline
    worst_minute_count: int | None = None
    under_since: datetime | None = None  # first minute of the run at or under the limit that lasts to the end
    before_per_min: float | None = None  # mean over the minutes just before the mitigation
    matches_after: int = 0
    minutes_after: int = 0  # whole minutes of logs read after the mitigation
    series_start: datetime | None = None
    series: list[int] = Field(default_factory=list)  # matches per minute from series_start (the last hours only)
    note: str = ""


class VerifyOutput(PhaseOutput):
    mitigation_at: datetime | None = None
    errors_per_min_before: float | None = None
    errors_per_min_after: float | None = None
    error_ratio_before: float | None = None
    error_ratio_after: float | None = None
    p95_ms_before: float | None = None  # request latency during the incident / after the mitigation, when logged
    p95_ms_after: float | None = None
    status: Literal["working", "partially working", "not working", "unknown"] = "unknown"
    recovered_at: datetime | None = None
    residual_issues: list[str] = Field(default_factory=list)
    fix_still_needed: bool = True
    next_step: str = ""
    checks: list[VerifyCheckResult] = Field(default_factory=list)  # the matched runbook's verify checks


class ActionItem(Model):
    description: str
    priority: Priority
    owner: str | None = None  # never assigned by the tool; the team decides
    status: Literal["Open", "In Progress", "Done"] = "Open"
    category: str = ""


class ReviewOutput(PhaseOutput):
    action_items: list[ActionItem] = Field(default_factory=list)
    went_well: list[str] = Field(default_factory=list)
    could_improve: list[str] = Field(default_factory=list)
    contributing_factors: list[str] = Field(default_factory=list)


PHASE_OUTPUTS: dict[str, type[PhaseOutput]] = {
    "classify": ClassifyOutput,
    "assess": AssessOutput,
    "contain": ContainOutput,
    "diagnose": DiagnoseOutput,
    "fix": FixOutput,
    "verify": VerifyOutput,
    "review": ReviewOutput,
}


# ---------------------------------------------------------------- LLM accounting


class Usage(Model):
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cost_usd: float = 0.0
    requests: int = 0
    redactions: int = 0


# ---------------------------------------------------------------- the evidence bundle


class EndpointStat(Model):
    """Errors and totals per endpoint/service/host named in the logs, within a window."""

    name: str
    errors: int = 0
    total: int = 0


class Evidence(Model):
    """What the toolbox found, gathered once per triage and handed to every phase and engine.

    The offline engine computes its conclusions from this; the Claude engine receives it as
    facts (onset, suspect change, rollback target, error timeline) and may call tools for more.
    """

    service: str | None = None
    now: datetime
    window_start: datetime | None = None
    window_end: datetime | None = None
    timeline: ErrorTimeline | None = None
    deploys: list[Deploy] = Field(default_factory=list)  # every service, oldest first
    commits: list[Commit] = Field(default_factory=list)  # newest first
    patterns: list[LogPattern] = Field(default_factory=list)  # most significant first; `new` relative to onset
    error_samples: list[SearchHit] = Field(default_factory=list)  # error records since onset, traces included
    endpoints_after: list[EndpointStat] = Field(default_factory=list)  # since onset
    endpoints_before: list[EndpointStat] = Field(default_factory=list)  # baseline window
    sources: list[SourceNote] = Field(default_factory=list)
    latency: LatencyProfile | None = None  # request durations, when the logs carry them
    evidence_files: list[str] = Field(default_factory=list)  # saved copies in the incident folder
