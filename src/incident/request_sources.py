"""Which deploy histories and logs a triage reads, and as what: flags, else config, else the runbook.

Flags and config are the operator's word: their paths also become read roots (`session.read_roots`).
A matched runbook's `sources:` are the team's defaults for one kind of failure. They are used for a
kind of source (logs, deploys, repo) only when neither flags nor config name one, and they never
widen what may be read: a runbook path is kept only if it already lies inside the roots the rest
of the request allows (config `roots`, --root, the repo, the directories of the operator's own
sources). A refused one becomes a note with the reason; the triage goes on without it.

Relative runbook paths are resolved against the config file's directory (the current directory
when there is none), the same base as every relative path in `.incident.yaml`: `logs/app*.log`
means the same file whether the team writes it in the config or in a runbook. Not the runbook
file's own directory: runbooks live in `runbooks/` (or a shared checkout) while the evidence lives
with the service.
"""

from __future__ import annotations

import glob
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from incident.errors import UsageError
from incident.models import SourceNote
from incident.tools.base import PathRefused, Roots
from incident.tools.deploys import check_format, pair_formats

if TYPE_CHECKING:
    from incident.config import ServiceConfig, Settings
    from incident.session import TriageRequest


@dataclass
class DeployChoice:
    """The deploy sources of a triage and each one's format (absent from `formats`: detect)."""

    paths: list[Path] = field(default_factory=list)
    formats: dict[str, str] = field(default_factory=dict)

    def add(self, path: Path, fmt: str | None) -> None:
        resolved = path.expanduser().resolve()
        self.paths.append(resolved)
        if fmt:
            self.formats[str(resolved)] = fmt

    @property
    def common(self) -> str | None:
        """The format every source shares (what requests carried before sources had their own)."""
        fmts = {self.formats.get(str(p)) for p in self.paths}
        return fmts.pop() if len(fmts) == 1 else None


def _config_path(settings: Settings, path: str, fmt: str | None, repo: Path | None) -> Path:
    # `path: .` (or empty) with git-tags means the service's own repository.
    if fmt == "git-tags" and path.strip() in ("", ".") and repo is not None:
        return repo
    return settings.resolve(path)


def choose_deploys(
    settings: Settings, svc: ServiceConfig | None, repo: Path | None, paths: list[Any], formats: list[str] | str | None
) -> DeployChoice:
    """Deploy sources from --deploys (each with its --deploys-format), else the service's config
    (a single --deploys-format then overrides each source's own), else the repo's release tags
    when --deploys-format git-tags is all that was given."""
    choice = DeployChoice()
    given = [formats] if isinstance(formats, str) else list(formats or [])
    if paths:
        for p, fmt in zip(paths, pair_formats(paths, given), strict=True):
            choice.add(Path(p), fmt)
        return choice
    if len(given) > 1:
        raise UsageError(
            f"--deploys-format given {len(given)} times without --deploys",
            "name the files with --deploys (one format each, in order), or give the format once for every configured source",
        )
    override = check_format(given[0]) if given else None
    if svc is not None and svc.deploys:
        for src in svc.deploys:
            fmt = override or check_format(src.format)
            choice.add(_config_path(settings, src.path, fmt, repo), fmt)
    elif override == "git-tags" and repo is not None:
        choice.add(repo, "git-tags")
    return choice


# ---------------------------------------------------------------- the runbook's sources


def _runbook_for(settings: Settings, req: TriageRequest) -> Any:
    """The runbook the session will follow, if it matched on the service or the alert (a keyword in
    the symptom is enough to suggest mitigations, not to choose what to read)."""
    from incident import runbooks

    paths = req.runbook_paths or [settings.resolve(p) for p in settings.runbooks]
    found, _ = runbooks.load_runbooks([p for p in paths if p.exists()])  # the session reports problems
    matches = runbooks.match_runbooks(found, service=req.service, alert=req.alert, symptom=req.symptom, title=req.title)
    if not matches or not any(r.startswith(("service ", "alert ")) for r in matches[0].reasons):
        return None
    return matches[0].runbook


def _allowed(roots: Roots, raw: str, full: Path, kind: Any, rb_id: str, want: Any, notes: list[SourceNote]) -> bool:
    try:
        if glob.has_magic(str(full)):
            roots.check_glob(str(full))
        else:
            roots.check(full, want=want)
    except PathRefused as e:
        reason = e.reason if e.path == str(full) else f"{e.path}: {e.reason}"
        notes.append(SourceNote(kind=kind, path=raw, refused=True, reason=f"{reason} (named by runbook {rb_id})", hint=e.hint))
        return False
    return True


def runbook_sources(settings: Settings, req: TriageRequest) -> dict[str, Any]:
    """Fields to update `req` with: the matched runbook's sources for each kind the request has
    none of, kept only inside the request's read roots. Empty when no runbook applies."""
    from incident.session import read_roots

    want_logs, want_deploys, want_repo = not req.logs, not req.deploys, req.repo is None
    if not (want_logs or want_deploys or want_repo):
        return {}
    rb = _runbook_for(settings, req)
    if rb is None:
        return {}
    src = rb.sources
    roots = Roots.of(*read_roots(req))
    notes: list[SourceNote] = []
    update: dict[str, Any] = {}
    if want_repo and src.repo:
        full = settings.resolve(src.repo)
        if _allowed(roots, src.repo, full, "repo", rb.id, "dir", notes):
            update["repo"] = full.resolve()
    logs = [
        str(full)
        for raw in (src.logs if want_logs else [])
        if _allowed(roots, raw, full := settings.resolve(raw), "logs", rb.id, "any", notes)
    ]
    deploys = DeployChoice()
    for ref in src.deploys if want_deploys else []:
        repo = update.get("repo") or req.repo
        full = _config_path(settings, ref.path, ref.format, repo)
        want = "dir" if ref.format == "git-tags" else "file"
        if _allowed(roots, ref.path, full, "deploys", rb.id, want, notes):
            deploys.add(full, ref.format)
    if not (update or logs or deploys.paths or notes):
        return {}
    return {
        **update,
        "runbook_logs": logs,
        "runbook_deploys": deploys.paths,
        "deploy_formats": {**req.deploy_formats, **deploys.formats},
        "sources_runbook": rb.id,
        "source_notes": [*req.source_notes, *notes],
    }
