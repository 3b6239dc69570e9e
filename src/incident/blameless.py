"""Blameless wording: postmortems and updates talk about systems and changes, never people.

Deploy records and notes carry names (`actor: alice`, "alice: bump pool size", "deployed by
alice@example.com"). The narrative refers to the change instead ("the deploy of rev 27"), so
every known name is removed from the text the reports produce.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel

if TYPE_CHECKING:
    from incident.models import Deploy
    from incident.state import IncidentState

M = TypeVar("M", bound=BaseModel)

# Automation accounts are systems, not people; scrubbing them would mangle ordinary words
# ("deploy", "system") in the narrative.
_SYSTEM_ACTORS = {
    "deploy", "deployer", "deployment", "system", "admin", "root", "bot", "ci", "cd", "automation",
    "unknown", "none", "null", "service", "pipeline", "release", "auto", "user", "operator", "team",
}
_PERSON = "a team member"


def actor_names(deploys: Iterable[Deploy], state: IncidentState | None = None) -> list[str]:
    """Names to keep out of the narrative: deploy actors and note authors, with their parts."""
    raw: list[str] = [d.actor for d in deploys if d.actor]
    if state is not None:
        raw += [n.author for n in state.notes if n.author]
    names: set[str] = set()
    for name in raw:
        name = name.strip()
        if not name:
            continue
        names.add(name)
        local = name.split("@", 1)[0] if "@" in name else name
        names.add(local)
        # "Alice Smith" / "alice.smith" / "alice_smith": the parts are names too
        names.update(p for p in re.split(r"[\s._+-]+", local) if p)
    return sorted((n for n in names if len(n) >= 3 and n.lower() not in _SYSTEM_ACTORS and not _is_bot(n)), key=len, reverse=True)


def _is_bot(name: str) -> bool:
    low = name.lower()
    return low.endswith("[bot]") or low.endswith("-bot") or low.startswith("bot-") or low in ("github-actions", "argocd", "jenkins", "flux", "spinnaker")


def scrub(text: str, names: list[str]) -> str:
    """Remove names from `text`: "by alice" disappears, a bare "alice" becomes "a team member".

    Code spans (`incident mark ID ...`) are left alone: a person called Mark must not rewrite
    a command."""
    if not text:
        return text
    if "`" in text:
        parts = re.split(r"(`[^`\n]*`)", text)
        return "".join(p if p.startswith("`") and p.endswith("`") and len(p) > 1 else _scrub(p, names) for p in parts)
    return _scrub(text, names)


# Emails, and @handles after "by", name a person whether or not a deploy record listed them.
_EMAIL = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
_HANDLE = r"(?<![\w@])@[A-Za-z0-9][\w-]*"


def _scrub(text: str, names: list[str]) -> str:
    text = re.sub(rf"\s*\b(?:by|from|via|per|author|actor)\b:?\s+(?:{_EMAIL}|{_HANDLE})", "", text, flags=re.IGNORECASE)
    # a bare @word is often not a person (`@timestamp`, `@app.route`): only emails go when bare
    text = re.sub(_EMAIL, _PERSON, text)
    if not names:
        return text
    # longest first, so "alice.smith" is removed whole rather than leaving ".smith"
    alt = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    # word boundaries that also work for names with dots or @ in them
    name_re = rf"(?<![\w@.-])@?(?:{alt})(?![\w@-])"
    out = re.sub(rf"\s*(?:\b(?:by|from|via|per|author|actor)\b:?\s+){name_re}", "", text, flags=re.IGNORECASE)
    out = re.sub(rf"\s*[(\[]{name_re}[)\]]", "", out, flags=re.IGNORECASE)
    out = re.sub(rf"^{name_re}\s*:\s*", "", out, flags=re.IGNORECASE | re.MULTILINE)
    out = re.sub(name_re, _PERSON, out, flags=re.IGNORECASE)
    # "(by alice: bump pool)" lost its name; do not leave "(: bump pool)"
    return re.sub(r"(^|\()\s*:\s*", r"\1", out, flags=re.MULTILINE)


def scrub_model(model: M, names: list[str]) -> M:
    """A copy of `model` with every string field scrubbed (paths and ids are left alone)."""

    def walk(v: Any, key: str = "") -> Any:
        if isinstance(v, str):
            return v if key in _KEEP else scrub(v, names)
        if isinstance(v, dict):
            return {k: walk(x, k) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x, key) for x in v]
        return v

    return type(model).model_validate(walk(model.model_dump()))


_KEEP = {"path", "incident_id", "implicated_files", "files_changed", "chart", "command"}
