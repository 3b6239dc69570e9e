"""Deploy history files: opening (plain or gzipped), bounded whole-document parsing, detection.

Detection reads the first 64 KiB: JSON lines of flat records, a JSON/YAML document (classified by
its keys: helm, Argo CD, Heroku, GitHub), or a CSV whose header names a time column.
"""

from __future__ import annotations

import gzip
import io
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
_DECODER = json.JSONDecoder()
BOM_AND_SPACE = b"\xef\xbb\xbf \t\r\n"


def _utf16(start: bytes) -> str | None:
    """UTF-16 text, as Windows PowerShell 5's `>` writes every redirected export."""
    if start[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"
    if len(start) >= 4 and start[1:2] == b"\x00" and start[3:4] == b"\x00" and start[0:1] in b'{["\r\n \t':
        return "utf-16-le"
    return None


def open_bytes(path: Path) -> IO[bytes]:
    """The file's bytes as UTF-8 (or what it was written in, if not UTF-16): gunzipped, and UTF-16
    recoded. A UTF-16 file is recoded whole, bounded like a document: such exports are small."""
    f = open(path, "rb")  # noqa: SIM115 - handed to the caller, who closes it
    stream: IO[bytes] = f
    if f.read(2) == b"\x1f\x8b":  # rotated deploy logs get gzipped too
        f.seek(0)
        stream = cast(IO[bytes], gzip.GzipFile(fileobj=f, mode="rb"))
    start = stream.read(4)
    stream.seek(0)
    enc = _utf16(start)
    if enc is None:
        return stream
    with stream:
        raw = stream.read(MAX_DOC_BYTES + 1)
    if len(raw) > MAX_DOC_BYTES:
        raise UsageError(f"{path}: UTF-16 file larger than {MAX_DOC_BYTES >> 20} MiB", "convert it to UTF-8 first")
    return io.BytesIO(raw.decode(enc, "replace").lstrip("\ufeff").encode("utf-8"))


def head(path: Path) -> bytes:
    try:
        with open_bytes(path) as f:
            return f.read(_HEAD)
    except (OSError, EOFError) as e:
        raise UsageError(
            f"{path}: cannot read ({getattr(e, 'strerror', None) or e})", "check the path and its permissions"
        ) from None


def _json_docs(text: str) -> Any:
    """One JSON document, or several written one after another (`gh api --paginate` prints a page
    per array: `[...][...]`), their lists joined. Raises ValueError as json.loads does."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        if not e.msg.startswith("Extra data"):
            raise
    docs: list[Any] = []
    pos, end = 0, len(text)
    while pos < end:
        while pos < end and text[pos] in " \t\r\n":
            pos += 1
        if pos == end:
            break
        doc, pos = _DECODER.raw_decode(text, pos)
        docs.append(doc)
    if all(isinstance(d, list) for d in docs):
        return [x for d in docs for x in d]
    return [x for d in docs for x in (d if isinstance(d, list) else [d])]


def _json_problem(path: Path, text: str, e: json.JSONDecodeError) -> UsageError:
    if e.msg.startswith("Unterminated string") or e.pos >= len(text.rstrip()):
        return UsageError(
            f"{path}: the JSON ends at line {e.lineno} before the document does (truncated?)",
            "export the history again; a copy cut short by a full disk or a timeout reads like this",
        )
    return UsageError(
        f"{path}: not valid JSON at line {e.lineno} column {e.colno} ({e.msg})",
        f"fix the file, or name its format with --deploys-format ({', '.join(FORMATS)})",
    )


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
        return _json_docs(text)
    except json.JSONDecodeError as e:
        json_error = e
    lines = [ln for ln in text.splitlines() if ln.strip()]
    try:
        objs = [json.loads(ln) for ln in lines]
        if objs and all(isinstance(o, dict) for o in objs):
            return objs
    except ValueError:
        pass
    if text.lstrip()[:1] in ("{", "["):
        raise _json_problem(path, text, json_error)
    yaml_error = ""
    if len(raw) <= _MAX_YAML_BYTES:
        import yaml  # slow import: only for YAML exports (helm -o yaml, kubectl get application -o yaml)

        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as e:
            mark = getattr(e, "problem_mark", None)
            yaml_error = f"; as YAML: {getattr(e, 'problem', None) or 'invalid'}" + (f" at line {mark.line + 1}" if mark else "")
            doc = None
        if isinstance(doc, (dict, list)):
            return doc
    raise UsageError(
        f"{path}: not readable as JSON, JSON lines or YAML{yaml_error}",
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


def _first_array_item(s: bytes) -> Any:
    text = s.decode("utf-8", "replace")
    pos = 1
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    try:
        return _DECODER.raw_decode(text, pos)[0]
    except ValueError:
        return None  # an element longer than the head: let the whole document decide


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
    if s[:1] == b"[" and classify_doc([_first_array_item(s)]) == "jsonl":
        return "jsonl", MISSING  # an array of deploy-log records: streamed, never loaded whole
    if s[:1] in (b"{", b"["):
        doc = load_doc(path)
        return classify_doc(doc), doc
    first_text = first.decode("utf-8", "replace")
    if fm.csv_header_ok(first_text):
        return "csv", MISSING
    if fm.csv_headerless(first_text):
        raise UsageError(
            f"{path}: a CSV without a header row",
            "add a first row naming the columns, one of them the deploy time: at, time, timestamp, deployed_at...",
        )
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
        if doc.get("kind") == "HelmRelease" or (
            isinstance(doc.get("items"), list) and doc["items"] and isinstance(doc["items"][0], dict)
            and doc["items"][0].get("kind") == "HelmRelease"
        ):  # fmt: skip
            return "flux"  # before Argo CD: a HelmRelease has a status.history too
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
        repo = doc["data"].get("repository") if isinstance(doc.get("data"), dict) else None
        if isinstance(repo, dict) and "deployments" in repo:
            return "github"  # `gh api graphql`
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
    if {"deployment_url", "state"} <= keys:  # a deployment status, listed with the deployments
        return "github"
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
