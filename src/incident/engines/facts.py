"""What every offline phase shares: the onset, the suspect change, its diff, the rollback target.

Computed once per phase from the brief. When an earlier phase already decided something (the
assess phase's onset and suspect, whichever engine answered it), later phases build on that
answer instead of recomputing their own, so the walk tells one story.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

from incident.clock import iso
from incident.engines import analysis as an
from incident.engines import signals as sig
from incident.engines.base import Brief
from incident.models import (
    AssessOutput,
    ClassifyOutput,
    Commit,
    Deploy,
    Evidence,
    LatencyProfile,
    RollbackTarget,
)
from incident.tools.base import Toolbox

_MAX_DETAILS = 4  # commit diffs read per deploy
LEAK_REACH = timedelta(hours=48)  # how long before memory runs out the release that leaks may have shipped


@dataclass
class DiffCache:
    """Deploy -> (changed files, diff text), shared across phases of one engine instance."""

    entries: dict[tuple[str, str, str | None, str | None, str | None], tuple[list[str], str]] = field(default_factory=dict)
    tags: dict[tuple[str, str | None, str], tuple[str, str] | None] = field(default_factory=dict)  # version -> (tag, sha)


@dataclass
class Facts:
    brief: Brief
    toolbox: Toolbox | None
    cache: DiffCache
    calls: list[dict[str, object]] = field(default_factory=list)

    @property
    def ev(self) -> Evidence:
        return self.brief.evidence

    @property
    def service(self) -> str | None:
        return self.brief.service or self.ev.service

    @property
    def repo(self) -> Path | None:
        return self.toolbox.ctx.repo if self.toolbox is not None else None

    @property
    def assess(self) -> AssessOutput | None:
        out = self.brief.outputs.get("assess")
        return out if isinstance(out, AssessOutput) else None

    @property
    def classify(self) -> ClassifyOutput | None:
        out = self.brief.outputs.get("classify")
        return out if isinstance(out, ClassifyOutput) else None

    @property
    def symptom(self) -> str:
        return " ".join(x for x in (self.brief.symptom, self.brief.alert, self.brief.title) if x)

    @cached_property
    def onset(self) -> datetime | None:
        if self.assess is not None and self.assess.onset is not None:
            return self.assess.onset
        tl = self.ev.timeline
        if tl is not None and tl.onset is not None:
            # A slow climb: the threshold was crossed late; the estimate of when it began is the onset.
            return self.rise_start or tl.onset
        if self.latency is not None:
            # Requests slowed but errors did not rise: the slowdown is the impact, and it began here.
            return self.latency.onset
        return self.brief.started_at

    @cached_property
    def onset_source(self) -> str:
        tl = self.ev.timeline
        if tl is not None and tl.onset is not None and self.onset in (tl.onset, self.rise_start):
            return "error_timeline"
        if self.latency is not None and self.onset == self.latency.onset:
            return "latency"
        return "assess" if self.assess is not None and self.assess.onset else "operator (--started)"

    @cached_property
    def traces(self) -> an.TraceFacts:
        return an.new_trace_facts(self.ev)

    @cached_property
    def suspect(self) -> an.Suspect | None:
        if self.assess is not None:
            return self._suspect_from_assess()
        found = an.find_suspect(self.ev, self.onset, self.service, self.files_for)
        if found is None and self.cause == "memory":
            found = self._leak_suspect()
        if found is not None and found.deploy is not None and not found.change.sha:
            tagged = self.tag_of(found.deploy)
            if tagged:
                found.change.sha = tagged[1]
                found.change.evidence.append(f"version {found.deploy.version} is release tag {tagged[0]} ({tagged[1][:12]})")
        return found

    def _leak_suspect(self) -> an.Suspect | None:
        """Memory that runs out hours after a release: the heap fills at the leak's pace, so the
        last release of the service before the onset is the suspect however far back it is."""
        onset = self.onset
        if onset is None:
            return None
        mine = [d for d in self.ev.deploys if d.started_at <= onset and d.succeeded and d.service in (None, self.service)]
        if not mine:
            return None
        d = mine[-1]
        earlier = [e for e in self.ev.deploys if e.started_at < d.started_at]
        if onset - d.started_at > LEAK_REACH or an.is_rollback(d, earlier) or an.flip_kind(d, earlier):
            return None
        files, diff = self.files_for(d)
        ref = an._deploy_ref(d, onset)
        hours = an.ago((onset - d.started_at).total_seconds() / 60)
        ref.evidence = [f"deployed {hours} before memory ran out ({iso(d.started_at)}); no release of {self.service or 'the service'} since",
                        "memory exhaustion builds up at the leak's pace, so the release that leaks ships hours before the first out-of-memory error"]
        matched = an.files_in_traces(files, self.traces)
        if files:
            ref.evidence.append(f"it changed {', '.join(files[:3])}" + (", named in the traces" if matched else ""))
        return an.Suspect(ref, d, 1.0, files, matched, an.symbols_in_diff(diff, self.traces) if matched else [])

    def _suspect_from_assess(self) -> an.Suspect | None:
        ref = self.assess.suspect_change if self.assess else None
        if ref is None:
            return None
        deploy = next((d for d in self.ev.deploys if d.id == ref.id and (ref.service is None or d.service == ref.service)), None)
        if deploy is None:
            files = next((c.files for c in self.ev.commits if ref.sha and c.sha.startswith(ref.sha[:12])), [])
            return an.Suspect(ref, None, 0.0, files, an.files_in_traces(files, self.traces), [])
        files, diff = self.files_for(deploy)
        matched = an.files_in_traces(files, self.traces)
        out = an.Suspect(ref, deploy, 0.0, files, matched, an.symbols_in_diff(diff, self.traces) if matched else [])
        out.flip = an.flip_kind(deploy, [e for e in self.ev.deploys if e.started_at < deploy.started_at])
        if out.flip:
            again = an.find_suspect(self.ev, self.onset, self.service, self.files_for)
            if again is not None and again.change.id == ref.id:
                out.enabled, out.enabled_files = again.enabled, again.enabled_files
        return out

    @cached_property
    def rollback_target(self) -> RollbackTarget | None:
        if self.assess is not None:
            return self.assess.rollback_target
        s = self.suspect
        if s is None or s.deploy is None or s.flip:
            return None  # a flip is undone by turning it back, not by an older release
        d = an.rollback_target_for(self.ev.deploys, s.deploy)
        if d is None:
            return None
        target = an.target_ref(d)
        if not target.sha and (tagged := self.tag_of(d)):
            target.sha = tagged[1]
        return target

    @cached_property
    def rollbacks(self) -> list[Deploy]:
        return an.rollbacks_after(self.ev, self.onset, self.service) if self.onset else []

    @cached_property
    def mitigation(self) -> tuple[datetime | None, str]:
        """The operator-confirmed mitigation time, else a rollback deploy seen after the onset."""
        if self.brief.mitigation_at is not None:
            return self.brief.mitigation_at, f"mitigation recorded by the operator at {iso(self.brief.mitigation_at)}"
        if self.rollbacks:
            d = self.rollbacks[0]
            return d.started_at, f"rollback deploy {d.service + ' ' if d.service else ''}{d.id} at {iso(d.started_at)}"
        tl = self.ev.timeline
        if self.onset is not None and tl is not None and tl.recovered_at is not None and not tl.still_elevated:
            # No rollback, but a deploy of the service between the onset and the recovery: a fix forward.
            forward = [d for d in self.ev.deploys if self.onset <= d.started_at <= tl.recovered_at and d.succeeded
                       and (self.service is None or d.service in (None, self.service))]
            if forward:
                d = forward[-1]
                return d.started_at, f"deploy {d.service + ' ' if d.service else ''}{d.id} at {iso(d.started_at)} (a fix forward)"
        return None, ""

    @cached_property
    def latency(self) -> LatencyProfile | None:
        """The request-duration profile when p95 rose and stayed up (None otherwise)."""
        return sig.latency_rise(self.ev)

    @property
    def latency_first(self) -> float | None:
        """Minutes the slowdown began before the errors rose, when it did (an early warning)."""
        tl, lat = self.ev.timeline, self.latency
        if lat is None or lat.onset is None or tl is None or tl.onset is None or lat.onset >= tl.onset:
            return None
        return (tl.onset - lat.onset).total_seconds() / 60

    @cached_property
    def signal(self) -> sig.Signal | None:
        return sig.dominant(self.ev)

    @cached_property
    def volume(self) -> sig.Volume | None:
        return sig.volume(self.ev.timeline, self.onset)

    @cached_property
    def recurrence(self) -> sig.Recurrence | None:
        return sig.recurring(self.ev.timeline, self.onset, self.ev.now)

    @cached_property
    def rise_start(self) -> datetime | None:
        """Where a gradual climb began, when the timeline's onset is only its threshold crossing."""
        tl = self.ev.timeline
        return sig.gradual_start(tl, tl.onset if tl is not None else None)

    @property
    def collapsed(self) -> bool:
        """The service nearly stopped logging while failing: an outage, not a recovery."""
        tl = self.ev.timeline
        return self.volume is not None and self.volume.ratio <= sig.COLLAPSE and tl is not None and tl.still_elevated

    @cached_property
    def cause(self) -> str | None:
        """The failure family the evidence shows ("traffic" for a spike in volume), or None."""
        kind = self.signal.kind if self.signal else None
        if self.volume is not None and self.volume.ratio >= sig.SPIKE and kind in (None, "overload", "dependency", "db"):
            return "traffic"
        return kind

    @cached_property
    def external(self) -> list[str]:
        """What reads like a dependency failing; empty when the errors show our own resources
        running out (a pool timeout says "timed out" too, and is no dependency outage)."""
        if self.cause in sig.CAPACITY or self.cause in ("traffic", "schema", "startup"):
            return []
        if self.onset_source == "latency":
            # In a slowdown with flat errors, the errors since its onset are the usual ones: only a
            # pattern new since then, and seen more than in passing, can name a dependency.
            return [p.template for p in an.new_patterns(self.ev) if p.count >= 3 and an._EXTERNAL.search(p.template)][:5]
        found = an.external_signals(self.ev, self.traces)
        if self.cause in sig.EXTERNAL and self.signal is not None:
            return list(dict.fromkeys([self.signal.example, *found]))[:5]
        return found

    @cached_property
    def diff(self) -> str:
        s = self.suspect
        return self.files_for(s.deploy)[1] if s is not None and s.deploy is not None else ""

    # ------------------------------------------------------------ git, read-only

    def files_for(self, d: Deploy) -> tuple[list[str], str]:
        """Files a deploy changed and the diff of its commits that matter, via read-only git."""
        repo = self.repo
        if repo is None or an.flip_kind(d, [e for e in self.ev.deploys if e.started_at < d.started_at]):
            return [], ""  # a flip shipped no code; the range before it is another release's
        key = (str(repo), d.id, d.service, d.sha, d.version)
        if key not in self.cache.entries:
            self.cache.entries[key] = self._read_deploy(repo, d)
        return self.cache.entries[key]

    def _call(self, tool: str, args: dict[str, Any], fn: Any) -> Any:
        try:
            result = fn()
        except Exception as e:  # noqa: BLE001 - a missing ref or a broken repo is evidence we lack, not a crash
            self.calls.append({"tool": tool, "args": args, "status": "error", "detail": str(getattr(e, "message", e))[:200]})
            return None
        self.calls.append({"tool": tool, "args": args, "status": "ok"})
        return result

    @cached_property
    def _services(self) -> set[str]:
        return {d.service for d in self.ev.deploys if d.service}

    def tag_of(self, d: Deploy) -> tuple[str, str] | None:
        """The release tag (name, sha) for a deploy known only by its version, if the repo has one."""
        repo = self.repo
        if repo is None or not d.version or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}", d.version):
            return None
        key = (str(repo), d.service, d.version)
        if key not in self.cache.tags:
            from incident.tools.git import list_tags

            version = d.version
            tags = self._call("list_tags", {"pattern": f"*{version}"}, lambda: list_tags(repo, f"*{version}", max_count=20)) or []
            named = [t for t in tags if re.search(rf"(^|[/@_-]|v){re.escape(version)}$", t.name)]
            # A monorepo tags every service's releases: prefer the tag that names this service.
            named.sort(key=lambda t: d.service is not None and d.service in t.name, reverse=True)
            self.cache.tags[key] = (named[0].name, named[0].sha) if named else None
        return self.cache.tags[key]

    def _ref_for(self, d: Deploy) -> str | None:
        if d.sha and re.fullmatch(r"[0-9a-fA-F]{7,64}", d.sha):
            return d.sha
        tagged = self.tag_of(d)
        return tagged[1] if tagged else None

    def _read_deploy(self, repo: Path, d: Deploy) -> tuple[list[str], str]:
        from incident.tools.git import commit_detail, commits_between

        ref = self._ref_for(d)
        if ref is None:
            return [], ""
        prev = an.rollback_target_for(self.ev.deploys, d)
        prev_ref = self._ref_for(prev) if prev is not None else None
        commits: list[Commit] = []
        if prev_ref:
            commits = self._call("commits_between", {"base": prev_ref, "head": ref},
                                 lambda: commits_between(repo, prev_ref, ref, max_count=50)) or []
        if not commits:
            detail = self._call("show_commit", {"ref": ref}, lambda: commit_detail(repo, ref))
            return (list(detail.commit.files), detail.diff) if detail else ([], "")
        commits = [c for c in commits if _owned(c.files, d.service, self._services)] or commits
        files = list(dict.fromkeys(f for c in commits for f in _owned(c.files, d.service, self._services)))
        traced = [c for c in commits if an.files_in_traces(c.files, self.traces)] or commits[:1]
        diffs = []
        for c in traced[:_MAX_DETAILS]:
            detail = self._call("show_commit", {"ref": c.sha}, lambda c=c: commit_detail(repo, c.sha))
            if detail is not None:
                diffs.append(detail.diff)
        return files, "\n".join(diffs)


def _owned(files: list[str], service: str | None, services: set[str]) -> list[str]:
    """In a monorepo the range between two releases of one service carries every service's
    commits; a directory named after another deployed service is that service's, not this one's."""
    if not service:
        return files
    others = services - {service}
    return [f for f in files if not any(part in others for part in f.split("/")[:-1])]
