"""YAML files loaded into pydantic models, with every problem at file:line:column.

PyYAML's composed node tree keeps each value's position; a pydantic error's `loc` is walked
back through it to the key or value it names (or its nearest parent, for a missing key).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)

MAX_YAML_BYTES = 1_000_000


class Problem(BaseModel):
    """One finding about a runbook file: where (1-based line/column, 0 when unknown) and what."""

    file: str
    line: int = 0
    column: int = 0
    message: str
    severity: Literal["error", "warning"] = "error"
    code: str = "schema"
    runbook_id: str | None = None

    def where(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.column or 1}"
        return self.file


def _mark(node: Any) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


MAX_NODES = 50_000  # after alias expansion: a "billion laughs" file must not hang validation


class _TooLarge(Exception):
    pass


def _index_positions(node: Any, path: tuple[Any, ...], out: dict[tuple[Any, ...], tuple[int, int]], dup: list[Any]) -> None:
    import yaml

    if len(out) > MAX_NODES:
        raise _TooLarge
    out.setdefault(path, _mark(node))
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key in seen:
                dup.append((key_node, key))
            seen.add(key)
            out[(*path, key, "__key__")] = _mark(key_node)
            _index_positions(value_node, (*path, key), out, dup)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index_positions(item, (*path, i), out, dup)


def _locate(positions: dict[tuple[Any, ...], tuple[int, int]], loc: tuple[Any, ...], error_type: str) -> tuple[int, int]:
    # An unknown key is best shown at the key itself; anything else at its value or nearest parent.
    if error_type == "extra_forbidden" and (*loc, "__key__") in positions:
        return positions[(*loc, "__key__")]
    while loc:
        if loc in positions:
            return positions[loc]
        loc = loc[:-1]
    return positions.get((), (1, 1))


def _error_message(err: Any) -> str:
    loc = ".".join(str(x) for x in err["loc"]) or "(top level)"
    msg = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        return f"{loc}: unknown key (allowed keys are listed by `incident runbook schema`)"
    return f"{loc}: {msg}"


def load_yaml_model(path: Path, model: type[M]) -> tuple[M | None, list[Problem], dict[tuple[Any, ...], tuple[int, int]]]:
    """Load a YAML mapping into `model`; every problem carries file:line:column."""
    import yaml

    name = str(path)
    try:
        if path.stat().st_size > MAX_YAML_BYTES:
            return None, [Problem(file=name, message=f"file larger than {MAX_YAML_BYTES} bytes", code="unreadable")], {}
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        return None, [Problem(file=name, message=f"cannot read: {e}", code="unreadable")], {}
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        line, col = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        return None, [Problem(file=name, line=line, column=col, message=f"not valid YAML: {problem}", code="yaml")], {}
    if node is None or not isinstance(data, dict):
        line, col = _mark(node) if node is not None else (1, 1)
        kind = "empty" if data is None else type(data).__name__
        return None, [Problem(file=name, line=line, column=col, message=f"expected a mapping of keys, not {kind}", code="schema")], {}
    positions: dict[tuple[Any, ...], tuple[int, int]] = {}
    dups: list[Any] = []
    try:
        _index_positions(node, (), positions, dups)
    except (_TooLarge, RecursionError):
        return None, [Problem(file=name, line=1, column=1, message=f"more than {MAX_NODES} values once aliases are expanded", code="unreadable")], {}
    problems = [
        Problem(file=name, line=_mark(k)[0], column=_mark(k)[1], message=f"duplicate key {key!r}", code="duplicate-key")
        for k, key in dups
    ]
    rid = data.get("id") if isinstance(data.get("id"), str) else None
    try:
        obj = model.model_validate(data)
    except ValidationError as e:
        for err in e.errors(include_url=False):
            line, col = _locate(positions, tuple(err["loc"]), err["type"])
            problems.append(Problem(file=name, line=line, column=col, message=_error_message(err), code="schema"))
        obj = None
    for p in problems:
        p.runbook_id = rid
    return (None if problems else obj), problems, positions


