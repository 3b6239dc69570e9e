"""`incident init`: scaffold a team repo for incidents — config, an example runbook, the
one-page procedure, a CI workflow and a read-only triage skill for coding agents.

An existing file is never overwritten without `force`, and a symlink is never written
through, even with `force`.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from incident.errors import StorageError, UsageError

_TEMPLATES = Path(__file__).resolve().parent / "scaffold_files"

# (where it goes, which template)
FILES: tuple[tuple[str, str], ...] = (
    (".incident.yaml", "incident.yaml"),
    ("runbooks/{service}-deploy.yaml", "runbook-example.yaml"),
    ("INCIDENT.md", "INCIDENT.md"),
    (".github/workflows/incident-runbooks.yml", "incident-runbooks.yml"),
    (".claude/skills/incident-triage.md", "incident-triage.md"),
)
LOG_GUESSES = ("logs/*.log", "log/*.log", "var/log/*.log")
DEPLOY_GUESSES = ("deploys.jsonl", "deploys.csv", "deploys/*.jsonl", "deploys/*.csv", "deploys/*.json", "helm-history.json")


@dataclass
class ScaffoldResult:
    root: str
    files: list[dict[str, str]] = field(default_factory=list)  # path, status (created|skipped|overwritten), note


def service_name(directory: Path) -> str:
    """A service name from the directory's name, fitting the runbook placeholder pattern."""
    name = re.sub(r"[^a-z0-9._-]+", "-", directory.resolve().name.lower()).strip("-._")[:63]
    return name or "my-service"


def find_repo(directory: Path) -> Path | None:
    here = directory.resolve()
    for d in (here, *here.parents):
        if (d / ".git").exists():
            return d
    return None


def _existing_globs(directory: Path, patterns: tuple[str, ...]) -> list[str]:
    return [p for p in patterns if any(f.is_file() for f in directory.glob(p))]


def config_text(directory: Path, service: str) -> str:
    repo = find_repo(directory)
    if repo is not None:
        rel = os.path.relpath(repo, directory.resolve())
        repo_line = f"    repo: {rel}"
    else:
        repo_line = "    # repo: path/to/the/service/git/repo"
    logs = _existing_globs(directory, LOG_GUESSES)
    system = Path("/var/log") / service
    if system.is_dir() and any(system.glob("*.log")):
        logs.append(f"{system}/*.log")
    if logs:
        logs_block = "    logs:\n" + "\n".join(f"      - {g}" for g in logs)
    else:
        logs_block = "    # logs: [logs/*.log]           # files or globs; .gz and rotated files are read too"
    deploys = _existing_globs(directory, DEPLOY_GUESSES)
    if deploys:
        deploys_block = "    deploys:\n" + "\n".join(f"      - {{path: {d}}}" for d in deploys)
    else:
        deploys_block = (
            "    # deploys:                      # format: jsonl, csv, helm, argocd, heroku, github, flux, git-tags\n"
            "    #   - {path: deploys/helm-history.json, format: helm}"
        )
    text = (_TEMPLATES / "incident.yaml").read_text(encoding="utf-8")
    return text.replace("@SERVICE@", service).replace("@REPO@", repo_line).replace("@LOGS@", logs_block).replace("@DEPLOYS@", deploys_block)


def file_contents(directory: Path, today: date) -> list[tuple[str, str]]:
    service = service_name(directory)
    out: list[tuple[str, str]] = []
    for target, template in FILES:
        if template == "incident.yaml":
            text = config_text(directory, service)
        else:
            text = (_TEMPLATES / template).read_text(encoding="utf-8")
            text = text.replace("@SERVICE@", service).replace("@TODAY@", today.isoformat())
        out.append((target.format(service=service), text))
    return out


def _write_new(path: Path, text: str) -> None:
    # O_EXCL: a file created between our check and this write is not clobbered.
    with path.open("x", encoding="utf-8") as f:
        f.write(text)


def _replace(path: Path, text: str) -> None:
    # Write beside it and rename over it: the rename replaces a file, it never writes through one.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def scaffold(directory: Path, *, force: bool = False, today: date | None = None) -> ScaffoldResult:
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory} is not a directory")
    today = today or date.today()
    result = ScaffoldResult(root=str(directory.resolve()))
    try:
        directory.mkdir(parents=True, exist_ok=True)
        for rel, text in file_contents(directory, today):
            path = directory / rel
            row = {"path": rel, "status": "created", "note": ""}
            if path.is_symlink():
                row.update(status="skipped", note="is a symlink; not touched")
            elif path.exists() and not force:
                row.update(status="skipped", note="exists (use --force to overwrite)")
            elif path.exists():
                if not path.is_file():
                    row.update(status="skipped", note="exists and is not a file")
                else:
                    _replace(path, text)
                    row["status"] = "overwritten"
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                try:
                    _write_new(path, text)
                except FileExistsError:
                    row.update(status="skipped", note="appeared while writing; not touched")
            result.files.append(row)
    except OSError as e:
        raise StorageError(f"cannot write in {directory}: {e.strerror or e}", "check the directory is writable") from None
    return result
