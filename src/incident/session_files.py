"""What a triage keeps beside its journal: the evidence as read and the suspect change's diff,
redacted like everything else that leaves the tools (an incident folder gets shared, attached to
tickets and committed with the postmortem). Each file written is recorded in the journal."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from incident import journal as j
from incident.engines.base import Brief
from incident.journal import Journal
from incident.models import Evidence
from incident.tools.base import ToolContext


def write_file(path: Path, content: str) -> None:
    """A side file of the incident (prompt, evidence); a refusing disk is a StorageError naming it."""
    try:
        path.parent.mkdir(exist_ok=True)
        path.write_text(content, encoding="utf-8")
    except OSError as e:
        raise j.storage_error(path, e) from None


def write_evidence(journal: Journal, name: str, content: str) -> None:
    write_file(journal.folder / "evidence" / name, content)
    journal.append(j.EVIDENCE_SAVED, {"path": f"evidence/{name}", "bytes": len(content.encode())})


def save_evidence(journal: Journal, ev: Evidence) -> None:
    from incident.redact import redact, redact_json  # compiled on first use, not at start-up

    if ev.timeline is not None:
        write_evidence(journal, "timeline.json", ev.timeline.model_dump_json(indent=1))
    if ev.deploys:
        deploys = redact_json([d.model_dump(mode="json") for d in ev.deploys])[0]
        write_evidence(journal, "deploys.json", json.dumps(deploys, indent=1))
    if ev.patterns:
        patterns = redact_json([p.model_dump(mode="json") for p in ev.patterns])[0]
        write_evidence(journal, "patterns.json", json.dumps(patterns, indent=1))
    if ev.error_samples:
        text = "\n\n".join(f"# {s.path}:{s.line_no}\n" + "\n".join([s.text, *s.after]) for s in ev.error_samples)
        write_evidence(journal, "error-samples.log", redact(text)[0])


def save_suspect_diff(journal: Journal, brief: Brief, ctx: ToolContext, notice: Callable[[str], None]) -> None:
    suspect = getattr(brief.outputs.get("assess"), "suspect_change", None)
    if not suspect or not suspect.sha or ctx.repo is None:
        return
    if (journal.folder / "evidence" / "suspect.diff").exists():
        return
    try:
        from incident.tools.git import commit_detail

        detail = commit_detail(ctx.repo, suspect.sha)
    except Exception as e:  # the diff is a convenience; its absence is noted, not fatal
        notice(f"could not save the suspect diff: {getattr(e, 'message', e)}")
        return
    from incident.redact import redact

    write_evidence(journal, "suspect.diff", redact(f"{detail.stat}\n\n{detail.diff}")[0])
