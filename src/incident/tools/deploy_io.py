"""Deploy history files: opening (plain or gzipped), bounded whole-document parsing, detection.

Detection reads the first 64 KiB: JSON lines of flat records, a JSON/YAML document (classified by
its keys: helm, Argo CD, Heroku, GitHub), or a CSV whose header names a time column.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import IO, Any, cast

from incident.errors import UsageError
from incident.tools import deploy_formats as fm

FORMATS = fm.FORMATS
MAX_DOC_BYTES = 256 * 1024 * 1024  # whole-document formats (helm, Argo CD, ...) are parsed in memory
_MAX_YAML_BYTES = 32 * 1024 * 1024
_HEAD = 64 * 1024
MISSING = object()
BOM_AND_SPACE = b"\xef\xbb\xbf \t\r\n"


def open_bytes(path: Path) -> IO[bytes]:
    f = open(path, "rb")  # noqa: SIM115 - handed to the caller, who closes it
    if f.read(2) == b"\x1f\x8b":  # rotated deploy logs get gzipped too
        f.seek(0)
        return cast(IO[bytes], gzip.GzipFile(fileobj=f, mode="rb"))
    f.seek(0)
    return f


def head(path: Path) -> bytes:
    try:
        with open_bytes(path) as f:
            return f.read(_HEAD)
    except (OSError, EOFError) as e:
        raise UsageError(
            f"{path}: cannot read ({getattr(e, 'strerror', None) or e})", "check the path and its permissions"
        ) from None


def load_doc(path: Path) -> Any:
    """Parse a whole JSON (or JSON-lines-of-objects, or YAML) document, bounded in size."""
    try:
        with open_bytes(path) as f:
            raw = f.read(MAX_DOC_BYTES + 1)
    except (OSError, EOFError) as e:
        raise UsageError(f"{path}: cannot read ({e})") from None
    if len(raw) > MAX_DOC_BYTES:
        raise UsageError(
            f"{path}: larger than {MAX_DOC_BYTES >> 20} MiB", "export a shorter history, or use JSON lines"
        )
    text = raw.decode("utf-8-sig", "replace")
    try:
        return json.loads(text)
    except ValueError:
        pass
    lines = [ln for ln in text.splitlines() if ln.strip()]
    try:
        objs = [json.loads(ln) for ln in lines]
        if objs and all(isinstance(o, dict) for o in objs):
            return objs
    except ValueError:
        pass
    if len(raw) <= _MAX_YAML_BYTES:
        import yaml  # slow import: only for YAML exports (helm -o yaml, kubectl get application -o yaml)

        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError:
            doc = None
        if isinstance(doc, (dict, list)):
            return doc
    raise UsageError(
        f"{path}: not readable as JSON, JSON lines or YAML",
        f"check the file, or name its format with --deploys-format ({', '.join(FORMATS)})",
    )


def _first_json_line(s: bytes) -> dict[str, Any] | None:
    """The first of the opening lines that is a JSON object on its own: JSON lines, even when a
    hand-edited log starts with a broken line."""
    for line in s.split(b"\n")[:50]:
        if line.lstrip()[:1] != b"{":
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict):
            return obj
    return None


def sniff(path: Path, first_bytes: bytes) -> tuple[str, Any]:
    """(format, parsed document or MISSING) from the file's first bytes."""
    s = first_bytes.lstrip(BOM_AND_SPACE)
    if s.count(b"\x00") > 2:
        raise UsageError(
            f"{path}: binary data, not a deploy history", "give a JSON, JSON lines, CSV or YAML export"
        )
    first = s.split(b"\n", 1)[0]
    obj = _first_json_line(s)
    if obj is not None:
        kind = classify_doc(obj)
        return (kind, MISSING) if kind == "jsonl" else (kind, load_doc(path))
    if s[:1] in (b"{", b"["):
        doc = load_doc(path)
        return classify_doc(doc), doc
    if fm.csv_header_ok(first.decode("utf-8", "replace")):
        return "csv", MISSING
    doc = load_doc(path)
    return classify_doc(doc), doc


def detect_format(path: Path) -> str:
    """ "jsonl" | "csv" | "helm" | "argocd" | "heroku" | "github", from the content."""
    path = Path(path)
    first_bytes = head(path)
    if not first_bytes.strip():
        raise UsageError(f"{path}: empty file, cannot tell its format")
    return sniff(path, first_bytes)[0]


def classify_doc(doc: Any) -> str:
    """Which source wrote this parsed JSON/YAML document; generic records are "jsonl"."""
    if isinstance(doc, dict):
        if (
            doc.get("kind") == "Application"
            or isinstance(doc.get("status"), dict)
            and "history" in doc["status"]
        ):
            return "argocd"
        if (
            isinstance(doc.get("items"), list)
            and doc["items"]
            and isinstance(doc["items"][0], dict)
            and doc["items"][0].get("kind") == "Application"
        ):
            return "argocd"
        if isinstance(doc.get("history"), list):
            return "argocd"
        return _classify_item(doc)
    if isinstance(doc, list):
        for item in doc[:20]:
            if isinstance(item, dict):
                return _classify_item(item)
    return "jsonl"


def _classify_item(item: dict[str, Any]) -> str:
    keys = set(item)
    if {"revision", "updated"} <= keys and keys & {"status", "chart", "app_version"}:
        return "helm"
    if keys & {"deployedAt", "deployStartedAt"} or {"id", "revision", "source"} <= keys:
        return "argocd"
    if {"version", "created_at"} <= keys and keys & {
        "slug",
        "user",
        "current",
        "output_stream_url",
        "addon_plan_names",
        "app",
    }:
        return "heroku"
    if {"sha", "ref"} <= keys and keys & {
        "environment",
        "creator",
        "statuses_url",
        "task",
        "payload",
        "statuses",
    }:
        return "github"
    return "jsonl"
