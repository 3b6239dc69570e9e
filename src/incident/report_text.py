"""The postmortem as text: the Markdown template, the error-rate chart, and Claude's narrative.

The Markdown comes from a Jinja template (StrictUndefined, so a team template that names a
field we do not have fails loudly instead of printing nothing). Claude may rewrite the
narrative paragraphs only; the timeline table, times and figures always come from the journal.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from incident.errors import NotFound, UsageError
from incident.models import Deploy, ErrorTimeline
from incident.report import TODO, Postmortem, duration_text

TEMPLATES = Path(__file__).resolve().parent / "templates"
DEFAULT_TEMPLATE = TEMPLATES / "postmortem.md.j2"
_BARS = "▁▂▃▄▅▆▇█"


# ---------------------------------------------------------------- the chart


def text_chart(tl: ErrorTimeline, deploys: list[Deploy], *, width: int = 64) -> str:
    """Errors per minute as one line of bars, with deploys, onset and recovery marked under it."""
    buckets = tl.buckets
    if not buckets:
        return "no timed error lines in the window"
    group = max(1, math.ceil(len(buckets) / width))
    per_min = 60 / max(1, tl.bucket_seconds)
    cols = [sum(b.errors for b in buckets[i : i + group]) / group * per_min for i in range(0, len(buckets), group)]
    peak = max(cols)
    bars = "".join(" " if v <= 0 else _BARS[min(len(_BARS) - 1, int(v / peak * (len(_BARS) - 1) + 0.5))] for v in cols)
    start = buckets[0].at
    span = group * tl.bucket_seconds

    def col(at: datetime) -> int | None:
        i = int((at - start).total_seconds() // span)
        return i if 0 <= i < len(cols) else None

    # Deploys get their own marker row so a deploy and the onset in one column both show.
    deploy_marks, event_marks = [" "] * len(cols), [" "] * len(cols)
    legend: list[str] = []
    for d in deploys:
        i = col(d.finished_at or d.started_at)
        if i is not None:
            deploy_marks[i] = "D"
            legend.append(f"D deploy {d.id}{' to ' + d.service if d.service else ''} at {d.started_at:%H:%M}Z")
    for sym, at, what in (("O", tl.onset, "onset"), ("R", tl.recovered_at, "back at baseline")):
        i = col(at) if at else None
        if at and i is not None:
            event_marks[i] = sym
            legend.append(f"{sym} {what} at {at:%H:%M}Z")
    end = buckets[-1].at
    head = (
        f"errors/min, {tl.bucket_seconds // 60 or 1}-min buckets x{group}; peak {tl.peak_errors_per_min:g}/min, "
        f"baseline {tl.baseline_errors_per_min:g}/min"
    )
    axis = f"{start:%H:%M}Z".ljust(max(len(cols) - 5, 7)) + f"{end:%H:%M}Z"
    marks = [f" {''.join(m)}" for m in (deploy_marks, event_marks) if m.count(" ") < len(m)]
    lines = [head, f"|{bars}|", *marks, f" {axis}", *legend]
    return "\n".join(line.rstrip() for line in lines)


# ---------------------------------------------------------------- Markdown


def _fmt(dt: datetime | None) -> str:
    return dt.strftime("%Y-%m-%d %H:%M:%SZ") if dt else "-"


def _md(text: Any) -> str:
    # Text from logs and notes must not open HTML or break out of its paragraph.
    return " ".join(str(text).split()).replace("<", "&lt;")


def _cell(text: Any) -> str:
    return _md(text).replace("|", "\\|")


def _url(path: str) -> str:
    # a link destination with spaces or parentheses must be wrapped, or the link breaks
    return f"<{path}>" if any(c in path for c in " ()<>") else path


def _env() -> Any:
    import jinja2  # slow import: only when a postmortem is rendered

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(TEMPLATES)]),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(t=_fmt, md=_md, cell=_cell, dur=duration_text, url=_url)
    return env


def render_postmortem_markdown(pm: Postmortem, *, template: Path | None = None) -> str:
    """Render `pm` as Markdown with the bundled template or a team's own (`template`).

    Evidence links are the paths in `pm.evidence`: relative to the incident folder, where
    postmortem.md lives by default (`relink` rewrites them for a file written elsewhere)."""
    import jinja2

    env = _env()
    try:
        if template is None:
            tmpl = env.get_template(DEFAULT_TEMPLATE.name)
        else:
            try:
                source = template.read_text(encoding="utf-8")
            except FileNotFoundError:
                raise NotFound(f"template {template} not found", "give the path to a Jinja Markdown template") from None
            except IsADirectoryError:
                raise UsageError(f"template {template} is a directory", "give the path to one Jinja Markdown file") from None
            except (OSError, UnicodeDecodeError) as e:
                raise UsageError(f"template {template}: cannot read ({e})", "give a readable UTF-8 Jinja Markdown file") from None
            tmpl = env.from_string(source)
        return str(tmpl.render(pm=pm, chart=pm.chart, TODO=TODO))
    except jinja2.TemplateSyntaxError as e:
        raise UsageError(f"template {template or DEFAULT_TEMPLATE}:{e.lineno}: {e.message}", "fix the Jinja syntax") from None
    except jinja2.UndefinedError as e:
        raise UsageError(
            f"template {template or DEFAULT_TEMPLATE}: {e.message}",
            "the context has `pm` (its fields are those of `incident postmortem ID --json`) and `chart`",
        ) from None


def relink(pm: Postmortem, folder: Path, out_dir: Path) -> Postmortem:
    """A copy whose evidence links lead from `out_dir` (the written file's directory) to the folder."""
    copy = pm.model_copy(deep=True)
    for e in copy.evidence:
        e.href = Path(os.path.relpath(folder / e.path, out_dir)).as_posix()
    return copy


# ---------------------------------------------------------------- Claude's narrative


_SECTIONS: dict[str, tuple[str, Callable[[Postmortem], Any]]] = {
    "summary": ("Summary", lambda pm: pm.model_dump(mode="json", include={"title", "service", "severity", "classification", "key_times", "impact_minutes", "impact", "root_cause", "mitigation"})),
    "detection": ("Detection", lambda pm: pm.model_dump(mode="json", include={"detection", "key_times"})),
    "impact": ("Impact", lambda pm: pm.model_dump(mode="json", include={"impact", "key_times", "impact_minutes"})),
    "root_cause": ("Root cause", lambda pm: pm.model_dump(mode="json", include={"root_cause"})),
    "mitigation": ("Mitigation and fix", lambda pm: pm.model_dump(mode="json", include={"mitigation"})),
}
_NUMBER = re.compile(r"\d+(?:[.:]\d+)*")
MAX_DRAFT = 2400


def _get(pm: Postmortem, key: str) -> str:
    return pm.summary if key == "summary" else pm.detection if key == "detection" else getattr(pm, key).narrative


def _set(pm: Postmortem, key: str, text: str) -> None:
    if key in ("summary", "detection"):
        setattr(pm, key, text)
    else:
        getattr(pm, key).narrative = text


def draft_narrative(pm: Postmortem, complete: Callable[[str, str], str]) -> Postmortem:
    """Let a model rewrite the narrative paragraph of each section from that section's facts.

    A draft that names a figure or time absent from the facts, or comes back empty, is
    discarded and the offline text kept (with a warning). TODO lines the draft dropped are
    put back: a model does not get to make a missing fact disappear.
    """
    env = _env()
    system = (TEMPLATES / "narrative_system.md").read_text(encoding="utf-8")
    out = pm.model_copy(deep=True)
    drafted = 0
    for key, (title, facts_of) in _SECTIONS.items():
        current = _get(out, key)
        facts = json.dumps(facts_of(out), ensure_ascii=False, indent=1)
        prompt = env.get_template("narrative_section.md.j2").render(section=title, facts=facts, current=current)
        try:
            text = _clean_draft(complete(system, prompt))
        except Exception as e:  # the offline text stands; the operator sees why in the warnings
            out.warnings.append(f"{title}: the model draft failed ({e.__class__.__name__}: {str(e)[:120]}); kept the offline text")
            continue
        problem = _check_draft(text, facts + "\n" + current)
        if problem:
            out.warnings.append(f"{title}: the model draft {problem}; kept the offline text")
            continue
        missing = [t for t in _todo_phrases(current) if t not in text]
        if missing:
            text = text.rstrip() + " " + " ".join(missing)
        _set(out, key, text)
        drafted += 1
    out.engine = "claude" if drafted == len(_SECTIONS) else f"claude ({drafted}/{len(_SECTIONS)} sections), offline"
    return out


def _todo_phrases(text: str) -> list[str]:
    # "... TODO: what restored service ... and when" -> the TODO sentence, up to the text's end
    return [TODO + part.split(TODO)[0].rstrip() for part in text.split(TODO)[1:]]


def _clean_draft(text: str) -> str:
    text = text.strip()
    if text.startswith("```"):
        text = text.strip("`").split("\n", 1)[-1] if "\n" in text else ""
    return text.strip()[:MAX_DRAFT]


def _check_draft(text: str, facts: str) -> str | None:
    if not text:
        return "was empty"
    invented = sorted({n for n in _NUMBER.findall(text) if n not in facts})
    if invented:
        return f"named figures that are not in the journal ({', '.join(invented[:5])})"
    return None
