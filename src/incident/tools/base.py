"""The toolbox's frame: read roots, tool results, size caps and the registry.

A tool is a plain function `(ctx, args) -> ToolResult` with a pydantic argument model (its JSON
schema is what the model sees) and a docstring written for the model. Tools only read, and only
inside the roots the operator configured; a model can never add a root.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from incident.clock import Clock, system_clock

MAX_TOOL_CHARS = 12_000  # per tool result sent to a model (~3k tokens)


class ToolArgs(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ToolResult(BaseModel):
    """What a tool returns: bounded text for a model, structured data for the offline engine."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    tool: str
    status: Literal["ok", "error", "no_data"]
    text: str = ""
    data: Any = None
    truncated: bool = False
    redactions: int = 0  # secrets the tool itself redacted from what it shows (counted once, here)

    def for_model(self) -> str:
        return f"status: {self.status}\n{self.text}".rstrip()


def cap_text(text: str, limit: int = MAX_TOOL_CHARS) -> tuple[str, bool]:
    """Cut `text` to `limit` characters at a line boundary, with a visible marker."""
    if len(text) <= limit:
        return text, False
    head = text[:limit]
    cut = head.rfind("\n")
    if cut > limit // 2:
        head = head[:cut]
    dropped = text.count("\n", len(head)) + (0 if text.endswith("\n") else 1)
    return f"{head}\n[truncated: {dropped} more lines, {len(text) - len(head)} more characters]", True


class PathRefused(Exception):
    def __init__(self, path: str, reason: str, hint: str = ""):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
        self.hint = hint


def spec_dir(spec: str) -> str:
    """The directory an operator's path names, to allow as a read root: a directory itself, a
    file's parent, or a glob's fixed prefix (`/var/log/*/app.log` -> `/var/log`)."""
    import glob

    p = os.path.expanduser(spec)
    if glob.has_magic(p):
        parts = p.split(os.sep)
        fixed = parts[: next(i for i, x in enumerate(parts) if glob.has_magic(x))]
        return os.sep.join(fixed) or "."
    return p if os.path.isdir(p) else (os.path.dirname(os.path.abspath(p)) or ".")


@dataclass(frozen=True)
class Roots:
    """Directories (resolved) inside which tools may read. Empty means nothing may be read."""

    paths: tuple[Path, ...]

    @classmethod
    def of(cls, *paths: str | os.PathLike[str]) -> Roots:
        out: list[Path] = []
        for p in paths:
            try:
                out.append(Path(p).expanduser().resolve(strict=False))
            except (OSError, RuntimeError):
                continue
        return cls(tuple(dict.fromkeys(out)))

    def contains(self, resolved: Path) -> bool:
        return any(resolved == r or resolved.is_relative_to(r) for r in self.paths)

    def check_glob(self, pattern: str) -> None:
        """Refuse a glob that would list directories outside the roots before anything is listed.

        Each file it matches is still checked with `check`; this only keeps a pattern such as
        `/etc/*` or `logs/*/../../*` from walking other directories at all.
        """
        import glob

        if "\x00" in pattern:
            raise PathRefused(pattern.replace("\x00", "\\0"), "contains a NUL byte")
        parts = Path(os.path.expanduser(pattern)).parts
        first_magic = next((i for i, x in enumerate(parts) if glob.has_magic(x)), len(parts))
        if ".." in parts[first_magic:]:
            raise PathRefused(pattern, "'..' after a wildcard could leave the read roots", "name the directory without '..'")
        base = Path(spec_dir(pattern)).resolve(strict=False)
        if not self.contains(base):
            raise PathRefused(
                pattern,
                "outside the configured read roots",
                f"add {base} (or a parent) to the read roots with --root or `roots:` in .incident.yaml",
            )

    def check(self, path: str | os.PathLike[str], *, want: Literal["file", "dir", "any"] = "file") -> Path:
        """Resolve `path` (symlinks included) and return it if it is a regular file/dir inside a root.

        Raises PathRefused with a reason and a hint otherwise. Device files, FIFOs and sockets
        are refused: reading /dev/zero or a FIFO would hang the triage.
        """
        raw = os.fspath(path)
        if "\x00" in raw:
            raise PathRefused(raw.replace("\x00", "\\0"), "contains a NUL byte")
        try:
            resolved = Path(raw).expanduser().resolve(strict=True)
        except FileNotFoundError:
            raise PathRefused(raw, "does not exist") from None
        except (OSError, RuntimeError) as e:  # symlink loops, permission
            raise PathRefused(raw, f"cannot be resolved ({e.__class__.__name__}: symlink loop or no access)") from None
        if not self.contains(resolved):
            hint = f"add {resolved.parent} (or a parent) to the read roots with --root or `roots:` in .incident.yaml"
            if resolved != Path(os.path.abspath(raw)):
                hint = f"{raw} is a link to {resolved}; " + hint
            raise PathRefused(raw, "outside the configured read roots", hint)
        try:
            st = resolved.stat()
        except OSError as e:
            raise PathRefused(raw, f"cannot stat ({e.strerror})") from None
        if stat.S_ISDIR(st.st_mode):
            if want == "file":
                raise PathRefused(raw, "is a directory")
        elif stat.S_ISREG(st.st_mode):
            if want == "dir":
                raise PathRefused(raw, "is not a directory")
        else:
            raise PathRefused(raw, "is not a regular file (device, FIFO or socket)", "give a regular file")
        return resolved


@dataclass
class ToolContext:
    """What tools may see. Built by the session from flags and config, never by a model."""

    roots: Roots
    repo: Path | None = None
    deploy_paths: list[str] = field(default_factory=list)
    deploys_format: str | None = None  # for every deploy source without its own; None = detect
    log_paths: list[str] = field(default_factory=list)  # files or globs
    service: str | None = None
    clock: Clock = system_clock
    max_chars: int = MAX_TOOL_CHARS
    # A deploy source's own format (keyed by its entry in deploy_paths): sources of different
    # formats go into one triage. Absent: `deploys_format`, else detected per file.
    deploy_formats: dict[str, str] = field(default_factory=dict)

    @property
    def now(self) -> datetime:
        return self.clock()

    def deploy_format(self, raw: str) -> str | None:
        """The format to read the deploy source `raw` as; None means detect it from the file."""
        return self.deploy_formats.get(raw) or self.deploys_format


A = TypeVar("A", bound=ToolArgs)


@dataclass(frozen=True)
class Tool(Generic[A]):
    name: str
    args_model: type[A]
    func: Callable[[ToolContext, A], ToolResult]

    @property
    def description(self) -> str:
        return " ".join((self.func.__doc__ or "").split())

    def schema(self) -> dict[str, Any]:
        """The Messages API tool declaration."""
        s = self.args_model.model_json_schema()
        s.pop("title", None)
        return {"name": self.name, "description": self.description, "input_schema": s}


class Toolbox:
    """The read-only tools available to a phase, bound to one context."""

    def __init__(self, ctx: ToolContext, tools: list[Tool[Any]]):
        self.ctx = ctx
        self.tools = {t.name: t for t in tools}

    def subset(self, names: list[str]) -> Toolbox:
        return Toolbox(self.ctx, [self.tools[n] for n in names if n in self.tools])

    def schemas(self) -> list[dict[str, Any]]:
        return [t.schema() for t in self.tools.values()]

    def run(self, name: str, args: dict[str, Any]) -> ToolResult:
        """Run a tool by name with untrusted arguments; every failure is a result, never a raise."""
        tool = self.tools.get(name)
        if tool is None:
            return ToolResult(tool=name, status="error", text=f"unknown tool {name!r}; available: {sorted(self.tools)}")
        try:
            parsed = tool.args_model.model_validate(args)
        except ValidationError as e:
            # Without the input: a hostile 1 MB argument must not come back as a 1 MB result.
            return ToolResult(tool=name, status="error", text=f"invalid arguments: {e.errors(include_url=False, include_input=False)}")
        try:
            result = tool.func(self.ctx, parsed)
        except PathRefused as e:
            return ToolResult(tool=name, status="error", text=f"refused: {e.path}: {e.reason}. {e.hint}".strip())
        except Exception as e:  # a tool bug must not end the triage; the model sees the error
            return ToolResult(tool=name, status="error", text=f"{e.__class__.__name__}: {e}")
        text, cut = cap_text(result.text, self.ctx.max_chars)
        return result.model_copy(update={"text": text, "truncated": result.truncated or cut})
