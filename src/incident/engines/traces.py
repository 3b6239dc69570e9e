"""Stack traces in error records: application frames, exception lines, and which repository
files and functions they name. Library frames are told apart so that a release that bumped a
dependency is not tied to every incident.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from incident.models import Evidence, LogPattern

_PY_FRAME = re.compile(r'File "([^"]+)", line (\d+), in ([\w<>.]+)')
_JAVA_FRAME = re.compile(r"\bat ([\w$.]+)\.([\w$<>]+)\(([\w$]+\.(?:java|kt|scala)):(\d+)\)")
_JS_FRAME = re.compile(r"\bat (?:([\w$.<>]+) )?\(?((?:/|\w:\\|\./)[^():\s]+\.(?:js|ts|mjs|cjs|tsx|jsx)):(\d+)(?::\d+)?\)?")
_GO_RUBY_FRAME = re.compile(r"((?:/|\./)?[\w./-]+\.(?:go|rb|php|rs|cs|swift)):(\d+)(?::in [`'](\w+)')?")
_EXCEPTION = re.compile(
    r"^\s*((?:[\w.]+\.)?[A-Z]\w*(?:Error|Exception|Timeout|Panic|Fault|Refused|Reset)|panic|TypeError|Traceback)\b[:\s]?(.*)$"
)
# Frames in these places are libraries, not the team's code: matching a deploy's files against
# them would tie every incident to whichever release bumped a dependency.
_LIBRARY = re.compile(
    r"(site-packages|dist-packages|/lib/python\d|node_modules|/usr/lib/|/usr/local/lib/|<frozen|\bvendor/|/go/pkg/mod/|/gems/)"
    # Java frames carry only the package: the JDK's and the common frameworks' are not the team's.
    r"|^(?:java|javax|jakarta|jdk|sun|com/sun|kotlin|kotlinx|scala|org/springframework|org/apache|org/hibernate|org/eclipse|"
    r"com/fasterxml|com/google|io/netty|io/micrometer|io/grpc|reactor|ch/qos|com/zaxxer|org/postgresql|com/mysql|okhttp3)/"
)
# The line a Python traceback ends with: `module.ExceptionName: message` (any name, not only *Error).
_PY_RAISED = re.compile(r"^([A-Za-z_][\w.]*)(?::\s.*)?$")


@dataclass
class Frame:
    path: str
    line: int | None
    function: str | None


@dataclass
class TraceFacts:
    """Application frames and exception lines named by a set of error records."""

    files: Counter[str] = field(default_factory=Counter)
    functions: Counter[str] = field(default_factory=Counter)
    exceptions: Counter[str] = field(default_factory=Counter)
    frames: Counter[tuple[str, int | None, str | None]] = field(default_factory=Counter)
    library_frames: int = 0
    records: int = 0  # error records read

    @property
    def top_exception(self) -> str | None:
        return self.exceptions.most_common(1)[0][0] if self.exceptions else None

    def innermost(self) -> Frame | None:
        """The most often seen application frame nearest the raise."""
        if not self.frames:
            return None
        (path, line, fn), _ = self.frames.most_common(1)[0]
        return Frame(path, line, fn)


def _frames(text: str) -> list[Frame]:
    out: list[Frame] = []
    for m in _PY_FRAME.finditer(text):
        out.append(Frame(m.group(1), int(m.group(2)), m.group(3)))
    for m in _JAVA_FRAME.finditer(text):
        pkg = m.group(1).rsplit(".", 1)[0].replace(".", "/")
        out.append(Frame(f"{pkg}/{m.group(3)}", int(m.group(4)), m.group(2)))
    for m in _JS_FRAME.finditer(text):
        out.append(Frame(m.group(2), int(m.group(3)), m.group(1)))
    if not out:
        for m in _GO_RUBY_FRAME.finditer(text):
            out.append(Frame(m.group(1), int(m.group(2)), m.group(3)))
    return out


def trace_facts(texts: Iterable[str]) -> TraceFacts:
    facts = TraceFacts()
    for text in texts:
        facts.records += 1
        frames = _frames(text)
        app = [f for f in frames if not _LIBRARY.search(f.path)]
        facts.library_frames += len(frames) - len(app)
        for f in dict.fromkeys((f.path, f.line, f.function) for f in app):
            facts.files[f[0]] += 1
            if f[2] and not f[2].startswith("<"):
                facts.functions[f[2]] += 1
        if app:
            # Python prints the innermost frame last; Java and JS print it first.
            inner = app[-1] if _PY_FRAME.search(text) else app[0]
            facts.frames[(inner.path, inner.line, inner.function)] += 1
        raised = _py_raised(text)
        if raised:
            facts.exceptions[raised[:200]] += 1
            continue
        for line in text.splitlines():
            m = _EXCEPTION.match(line)
            if m and m.group(1) != "Traceback":
                facts.exceptions[line.strip()[:200]] += 1
                break
    return facts


def raised_line(text: str) -> str | None:
    """The line of a record that names what was raised (Python's last line, else the first
    exception-looking line), or None."""
    found = _py_raised(text)
    if found:
        return found
    return next((line.strip() for line in text.splitlines() if (m := _EXCEPTION.match(line)) and m.group(1) != "Traceback"), None)


def _py_raised(text: str) -> str | None:
    """The exception a Python traceback ends with; the last one when it chains others."""
    if "Traceback (most recent call last):" not in text:
        return None
    lines = text.splitlines()
    start = next(i for i, ln in enumerate(lines) if "Traceback (most recent call last):" in ln)
    for line in reversed(lines[start + 1:]):
        if line and not line[0].isspace() and _PY_RAISED.match(line) and not line.startswith("Traceback"):
            return line.strip()
    return None


def sample_texts(ev: Evidence) -> list[str]:
    return ["\n".join([s.text, *s.after]) for s in ev.error_samples]


def new_patterns(ev: Evidence) -> list[LogPattern]:
    return [p for p in ev.patterns if p.new]


def new_trace_facts(ev: Evidence) -> TraceFacts:
    """Frames from the records since onset that belong to new patterns (or all of them when the
    patterns cannot say which are new)."""
    fresh = new_patterns(ev)
    texts = sample_texts(ev)
    if fresh:
        keys = [_key(p.template) for p in fresh] + [_key(p.sample) for p in fresh if p.sample]
        chosen = [t for t in texts if any(k and k in t for k in keys)]
        texts = chosen or texts
        records = len(texts)
        facts = trace_facts(texts + [p.sample for p in fresh if p.sample])
        facts.records = records
        return facts
    return trace_facts(texts)


def _key(template: str) -> str:
    """The longest literal run of a pattern template, to find its records among the samples."""
    parts = re.split(r"<[^>]*>|\*|\{[^}]*\}", template)
    return max((p.strip() for p in parts), key=len, default="")[:80]


def path_matches(trace_path: str, repo_file: str) -> bool:
    """Does a path from a stack trace (absolute, in a container) name this repository file?"""
    t = trace_path.replace("\\", "/").lstrip("./")
    r = repo_file.replace("\\", "/").lstrip("./")
    if not r or not t:
        return False
    if t == r or t.endswith("/" + r):
        return True
    # Java frames carry the package path only; a repo keeps it under src/main/java/...
    return "/" in t and r.endswith("/" + t)


def files_in_traces(changed: list[str], facts: TraceFacts) -> list[str]:
    return [f for f in changed if any(path_matches(t, f) for t in facts.files)]


def symbols_in_diff(diff: str, facts: TraceFacts) -> list[str]:
    """Functions named in the traces that the diff defines or touches (hunk headers included)."""
    out = []
    for fn, _ in facts.functions.most_common(20):
        if len(fn) < 3:
            continue
        if re.search(rf"^(?:@@.*|[+-].*)\b{re.escape(fn)}\b", diff, re.MULTILINE):
            out.append(fn)
    return out
