"""The evidence as bounded text for a prompt, and the context every phase template renders with.

The digest is the same whatever the log size: a fixed number of timeline rows, deploys,
commits, patterns and samples, each capped, so a phase's evidence stays under ~8k tokens.
"""

from __future__ import annotations

import json
from typing import Any, get_args, get_origin

from pydantic import BaseModel

from incident.clock import iso
from incident.engines.base import Brief
from incident.models import Evidence, PhaseOutput
from incident.phases import PhaseSpec
from incident.tools.base import cap_text

MAX_DIGEST_CHARS = 24_000  # ~6k tokens
MAX_SAMPLE_CHARS = 1_200


def _pct(x: float | None) -> str:
    return "unknown" if x is None else f"{x * 100:.1f}%"


def _latency(ev: Evidence) -> list[str]:
    """Request durations, when the logs carry them: a slowdown is impact even with flat errors."""
    from incident.tools.latency import human_ms

    lat = ev.latency
    if lat is None or not lat.requests:
        return []
    out = [
        f"Latency ({lat.requests} request durations read; {'; '.join(lat.sources[:2]) or '?'}): "
        f"baseline p50 {human_ms(lat.baseline_p50_ms)}, p95 {human_ms(lat.baseline_p95_ms)}; "
        f"onset of a sustained p95 rise {iso(lat.onset) or 'none found'}; peak p95 {human_ms(lat.peak_p95_ms)} at {iso(lat.peak_at) or '-'}; "
        f"recent p50 {human_ms(lat.recent_p50_ms)}, p95 {human_ms(lat.recent_p95_ms)}; still elevated: {'yes' if lat.still_elevated else 'no'}; "
        f"recovered at {iso(lat.recovered_at) or '-'}"
    ]
    out.extend(f"  {e.name}: p95 {human_ms(e.p95_ms)} over {e.count} (before: p95 {human_ms(e.baseline_p95_ms)} over {e.baseline_count})"
               for e in lat.endpoints[:5])
    return out


def digest(ev: Evidence, *, suspect_id: str | None = None, rollback_id: str | None = None) -> str:
    out: list[str] = []
    tl = ev.timeline
    out.append(f"Window: {iso(ev.window_start) or '?'} .. {iso(ev.window_end) or '?'} (UTC)")
    if tl and (tl.total_lines or tl.error_lines):
        out.append(
            f"Error timeline ({len(tl.files)} log file(s), {tl.total_lines} lines, {tl.error_lines} error lines): "
            f"onset {iso(tl.onset) or 'none found'}; baseline {tl.baseline_errors_per_min:.2f} errors/min "
            f"(ratio {_pct(tl.baseline_error_ratio)}); peak {tl.peak_errors_per_min:.1f}/min (ratio {_pct(tl.peak_error_ratio)}); "
            f"recent {tl.recent_errors_per_min:.1f}/min (ratio {_pct(tl.recent_error_ratio)}); "
            f"still elevated: {'yes' if tl.still_elevated else 'no'}; recovered at {iso(tl.recovered_at) or '-'}"
        )
        busy = [b for b in tl.buckets if b.errors]
        if busy:
            rows = busy if len(busy) <= 30 else busy[:10] + busy[-20:]
            out.append("Errors per minute (non-zero minutes" + (", first 10 and last 20" if len(busy) > 30 else "") + "):")
            out.extend(f"  {iso(b.at)}  errors={b.errors} total={b.total}" for b in rows)
    else:
        out.append("Error timeline: no log lines with timestamps were found in the window.")
    out.extend(_latency(ev))
    if ev.deploys:
        out.append(f"Deploys ({len(ev.deploys)}, oldest first; the last 15 shown):")
        for d in ev.deploys[-15:]:
            mark = " <- suspect" if d.id == suspect_id else (" <- last known-good" if d.id == rollback_id else "")
            out.append(
                f"  {iso(d.started_at)} {d.service or '?'} id={d.id} version={d.version or '-'} sha={(d.sha or '-')[:12]} "
                f"status={d.status}{' rollback_of=' + d.rollback_of if d.rollback_of else ''} {(d.description or '')[:100]}{mark}"
            )
    else:
        out.append("Deploys: none found.")
    if ev.commits:
        out.append(f"Commits in the window ({len(ev.commits)}, newest first; up to 15):")
        for c in ev.commits[:15]:
            files = ", ".join(c.files[:6]) + (f" (+{len(c.files) - 6})" if len(c.files) > 6 else "")
            out.append(f"  {iso(c.authored_at)} {c.sha[:12]} {c.subject[:100]} [{files}]")
    if ev.patterns:
        out.append("Error patterns (most significant first; NEW = not seen before the onset):")
        for p in ev.patterns[:12]:
            out.append(f"  {'NEW ' if p.new else ''}x{p.count} first {iso(p.first_seen) or '-'}: {p.template[:200]}")
    if ev.endpoints_after:
        out.append("Endpoints since onset (errors/total):")
        before = {e.name: e for e in ev.endpoints_before}
        for e in ev.endpoints_after[:10]:
            b = before.get(e.name)
            out.append(f"  {e.name}: {e.errors}/{e.total}" + (f" (before: {b.errors}/{b.total})" if b else ""))
    if ev.error_samples:
        out.append("Error samples since onset (up to 3):")
        for s in ev.error_samples[:3]:
            text = "\n".join([s.text, *s.after])[:MAX_SAMPLE_CHARS]
            out.append(f"  --- {s.path}:{s.line_no}\n" + "\n".join("  " + line for line in text.splitlines()))
    refused = [s for s in ev.sources if s.refused]
    if refused:
        out.append("Sources that could not be read:")
        out.extend(f"  {s.kind} {s.path}: {s.reason}" for s in refused[:10])
    text, _ = cap_text("\n".join(out), MAX_DIGEST_CHARS)
    return text


def output_fields(model: type[BaseModel]) -> str:
    """A compact field list for the answer format (pasteable into any chat assistant)."""
    lines = []
    for name, field in model.model_fields.items():
        ann = field.annotation
        lines.append(f"- `{name}`: {_type_name(ann)}")
    return "\n".join(lines)


def _type_name(ann: Any) -> str:
    origin = get_origin(ann)
    if origin is None:
        return getattr(ann, "__name__", str(ann))
    args = [a for a in get_args(ann)]
    if str(origin).endswith("Literal"):
        return " | ".join(json.dumps(a) for a in args)
    names = [_type_name(a) for a in args]
    if origin in (list,):
        return f"list of {names[0]}"
    return " or ".join(names).replace("NoneType", "null")


def prompt_context(spec: PhaseSpec, brief: Brief, computed: PhaseOutput | None = None) -> dict[str, Any]:
    suspect = getattr(brief.outputs.get("assess"), "suspect_change", None)
    rollback = getattr(brief.outputs.get("assess"), "rollback_target", None)
    earlier = {
        name: json.dumps(brief.outputs[name].model_dump(mode="json"), indent=1, ensure_ascii=False)[:6000]
        for name in spec.feeds_from
        if name in brief.outputs
    }
    return {
        "incident": {
            "id": brief.incident_id,
            "title": brief.title,
            "service": brief.service,
            "symptom": brief.symptom,
            "alert": brief.alert,
            "started_at": iso(brief.started_at),
            "now": iso(brief.now),
            "notes": brief.notes[-10:],
        },
        "runbook": (
            {
                "id": brief.runbook_id,
                "summary": brief.runbook_summary,
                "commands": [c for c in brief.vetted_commands if c.command],
            }
            if brief.runbook_id
            else None
        ),
        "evidence": digest(brief.evidence, suspect_id=suspect.id if suspect else None, rollback_id=rollback.id if rollback else None),
        "earlier": earlier,
        "mitigation": {"at": iso(brief.mitigation_at), "action": brief.mitigation_action} if brief.mitigation_at else None,
        "phase": {"name": spec.name, "title": spec.title, "question": spec.question},
        "output_fields": output_fields(spec.output_model),
        "computed": (
            json.dumps(computed.model_dump(mode="json", exclude_defaults=True), indent=1, ensure_ascii=False)[:8000]
            if computed is not None
            else None
        ),
    }
