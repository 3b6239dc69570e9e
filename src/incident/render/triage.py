"""The operator's walk on a terminal: header, progress, one panel per phase, the questions.

This module renders what the session emits and asks what the session asks; it decides nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from rich.console import Group
from rich.panel import Panel
from rich.prompt import Prompt
from rich.table import Table
from rich.text import Text

from incident.render import clean, console, hhmm
from incident.render.phase_views import _PHASE_VIEWS, _change_line, _contain, command_block

__all__ = ["PlainUI", "TerminalUI", "make_ui", "finished", "command_block", "_change_line"]

if TYPE_CHECKING:
    from incident.engines.base import Brief, PhaseAnswer
    from incident.models import ProposedCommand
    from incident.phases import PhaseSpec
    from incident.session import TriageResult


def _t(value: Any, style: str = "") -> Text:
    return Text(clean(str(value)), style=style)


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"


class PlainUI:
    """Prints the walk; asks nothing (non-interactive, or no TTY)."""

    interactive = False

    def __init__(self) -> None:
        self.c = console()
        self.incident_id: str | None = None  # known once the header is shown; a Ctrl-C names it
        self._shown_contain = False  # a resumed walk asks about commands this run never printed
        self._progress: Any = None
        self._streamed = False
        self._seen = ""

    def header(self, info: dict[str, Any]) -> None:
        self.incident_id = info["incident_id"]
        title = Text("incident ", style="bold") + Text(clean(info["incident_id"]), style="bold cyan")
        if info.get("title"):
            title.append(f"  {clean(info['title'])}")
        engine = info["engine"] + (f" ({info['model']})" if info.get("model") else "")
        if info["engine"] == "offline":
            engine += " — deterministic, no API key needed"
        reads = []
        if info.get("repo"):
            reads.append(f"repo {info['repo']}")
        if info.get("deploys"):
            fmt = f" ({info['deploys_format']})" if info.get("deploys_format") else ""
            reads.append(f"deploy history {', '.join(info['deploys'])}{fmt}")
        if info.get("logs"):
            files = info.get("log_files") or {}
            more = f" (+{len(info['logs']) - 3})" if len(info["logs"]) > 3 else ""
            reads.append(f"logs {', '.join(info['logs'][:3])}{more} — {files.get('files', 0)} file(s), {_size(files.get('bytes', 0))}")
        rb = info.get("runbook")
        # A grid, so a long path wraps under its value, not under the labels.
        grid = Table.grid(padding=(0, 1))
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column(overflow="fold")
        grid.add_row("engine", _t(engine))
        grid.add_row("reads", _t("\n".join(reads) or "nothing configured"))
        grid.add_row("runbook", _t(f"{rb['id']} (matched: {', '.join(rb['reasons'])})" if rb else "none matched"))
        grid.add_row("journal", _t(info["folder"]))
        if info.get("phases_done"):  # a resumed triage: what it will not run again
            grid.add_row("resumes", _t(f"after {', '.join(info['phases_done'])} (recorded; not run again)"))
        self.c.print(Panel(Group(title, grid), border_style="cyan"))

    def progress(self, label: str, done: int, total: int) -> None:
        if not self.c.is_terminal or total <= 0:
            return
        from rich.progress import Progress

        if self._progress is None:
            self._progress = Progress(transient=True, console=self.c)
            self._progress.start()
            self._task = self._progress.add_task(clean(label), total=total)
        self._progress.update(self._task, completed=done, total=total, description=clean(label))
        if done >= total:
            self._progress.stop()
            self._progress = None

    def phase_started(self, spec: PhaseSpec, engine: str) -> None:
        self._streamed = False
        self._seen = ""
        self.c.print(Text(f"▸ {spec.title}", style="bold") + Text(f" — {spec.question}", style="dim"), soft_wrap=False)

    def stream_text(self, text: str) -> None:
        """The model's reasoning as it arrives; its JSON answer is shown as the phase panel
        instead, so the stream stops at the first code fence or bare JSON object."""
        before = self._seen
        self._seen += text
        cut = min((i for i in (self._seen.find("```"), self._seen.find("\n{")) if i >= 0), default=-1)
        if self._seen.startswith("{"):
            cut = 0
        visible = self._seen if cut < 0 else self._seen[:cut]
        new = visible[len(before):] if len(visible) > len(before) else ""
        if new:
            self._streamed = True
            self.c.print(clean(new), end="", markup=False, highlight=False, style="dim", soft_wrap=True)

    def phase_done(self, spec: PhaseSpec, answer: PhaseAnswer, brief: Brief) -> None:
        if self._streamed:
            self.c.print()
        title = f"{spec.title} · {answer.engine}"
        if answer.usage is not None:
            u = answer.usage
            title += f" · {u.input_tokens} in / {u.output_tokens} out tokens · ${u.cost_usd:.4f}"
        if spec.name == "contain":
            # No box around commands: a wrapped line inside a panel would copy with its border.
            from rich.rule import Rule

            self._shown_contain = True
            self.c.print(Rule(clean(title), align="left", style="blue"))
            for part in _contain(answer.output, brief):
                # A command line is never cut by us (the terminal folds it, so it copies whole);
                # the prose around it wraps at words, under its own indent.
                self.c.print(part, soft_wrap=isinstance(part, Text))
            self.c.print(Rule(style="blue"))
        else:
            body = _PHASE_VIEWS[spec.name](answer.output, brief)
            self.c.print(Panel(body, title=clean(title), title_align="left", border_style="blue"))

    def notice(self, text: str) -> None:
        self.c.print(Text("note: ", style="yellow") + _t(text), soft_wrap=True)

    def confirm_severity(self, proposed: str, reason: str) -> str:
        return proposed

    def ask_ran(self, index: int, cmd: ProposedCommand) -> Literal["yes", "no", "stop"]:
        return "no"


class TerminalUI(PlainUI):
    """The interactive walk: confirms the severity, asks whether each proposed command was run."""

    interactive = True

    def confirm_severity(self, proposed: str, reason: str) -> str:
        question = Text("Severity ") + Text(proposed, style="bold magenta") + Text(" — [Enter] accept · 1–4 change")
        answer = Prompt.ask(question, default="", show_default=False, console=self.c).strip()
        chosen = proposed
        if answer in ("1", "2", "3", "4"):
            chosen = f"SEV-{answer}"
        elif answer.upper() in ("SEV-1", "SEV-2", "SEV-3", "SEV-4"):
            chosen = answer.upper()
        elif answer:
            self.c.print(_t(f"'{answer}' is not 1–4: keeping {proposed}", "yellow"), soft_wrap=True)
        self.c.print(Text("✓ ", style="green") + _t(f"severity {chosen} recorded in the journal"), soft_wrap=True)
        return chosen

    def ask_ran(self, index: int, cmd: ProposedCommand) -> Literal["yes", "no", "stop"]:
        if not self._shown_contain:
            # Resumed after contain: the options were printed in an earlier run, maybe hours ago.
            for part in command_block(index, cmd):
                self.c.print(part, soft_wrap=isinstance(part, Text))
        answer = Prompt.ask(
            Text(f"Did you run option {index}? [y/N/skip]"), default="n", show_default=False, console=self.c
        ).strip().lower()
        if answer in ("y", "yes"):
            self.c.print(Text("✓ ", style="green") + _t(f"recorded: you ran option {index}, now; verify measures from this time"), soft_wrap=True)
            return "yes"
        if answer in ("s", "skip", "q", "stop"):
            self.c.print(_t("no more questions; `incident mark ID mitigated --at TIME` records a mitigation later", "dim"), soft_wrap=True)
            return "stop"
        return "no"


def make_ui(*, interactive: bool) -> PlainUI:
    return TerminalUI() if interactive else PlainUI()


def finished(result: TriageResult, *, cadence: dict[str, int], now: datetime) -> None:
    c = console()
    now = result.finished_at or now
    st = result.state
    minutes = cadence.get(st.severity or "", 30)
    last = st.comms[-1].at if st.comms else None
    due = (last or now) + timedelta(minutes=minutes)
    if st.usage.requests:
        u = st.usage
        c.print(_t(f"LLM usage: {u.input_tokens} input ({u.cache_read_input_tokens} from cache) / {u.output_tokens} output tokens · ${u.cost_usd:.4f}", "dim"), soft_wrap=True)
    c.print(Text("✓ triage recorded in ", style="green") + _t(str(result.folder)), soft_wrap=True)
    c.print(_t(f"next stakeholder update due {hhmm(due)} ({st.severity or 'SEV-?'}: every {minutes} min) — incident comms {st.id}"), soft_wrap=True)
    c.print(_t(f"after the incident: incident postmortem {st.id}", "dim"), soft_wrap=True)
