"""Phase prompts: Jinja templates under prompts/ (StrictUndefined), overridable by a team.

A team may put its own `<phase>.md` in a directory given by config `prompts_dir`; anything it
does not override comes from the bundled set.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from incident.resources import data_dir


def bundled_dir() -> Path:
    return data_dir("prompts")


def load_text(name: str, *, override_dir: Path | None = None) -> str:
    for d in (override_dir, bundled_dir()):
        if d is not None and (d / name).is_file():
            return (d / name).read_text(encoding="utf-8")
    raise FileNotFoundError(f"no prompt template {name!r} in {override_dir or ''} {bundled_dir()}")


@cache
def _env(search: tuple[str, ...]) -> Any:
    import jinja2  # slow import: only when a prompt is rendered

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(list(search)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(name: str, context: dict[str, Any], *, override_dir: Path | None = None) -> str:
    search = tuple(str(d) for d in (override_dir, bundled_dir()) if d is not None)
    return str(_env(search).get_template(name).render(**context))
