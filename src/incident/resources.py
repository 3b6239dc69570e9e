"""Where bundled data lives: `prompts/`, `runbooks/`, `examples/` at the repo root in a checkout,
`incident/_data/` in an installed wheel."""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    installed = _PKG / "_data" / name
    if installed.is_dir():
        return installed
    return _PKG.parent.parent / name  # editable install / source checkout: src/incident -> repo root
