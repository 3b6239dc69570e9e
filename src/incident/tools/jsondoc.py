"""Log exports that are one JSON document rather than JSON lines, read as JSON lines.

`aws logs filter-log-events` prints `{"events": [{"timestamp": ..., "message": ...}, ...]}`,
`gcloud logging read --format=json` and the Cloud Console print a JSON array (newest first),
an Elasticsearch/OpenSearch search prints `{"hits": {"hits": [{"_source": {...}}]}}`; all of
them pretty-printed, so a record spans a dozen lines and its time, level and message sit on
different ones. Such a file is parsed whole (it is a command's output, not a growing log) and
each record becomes one compact JSON line, oldest first; the readers then see a JSON-lines log
(read as a stream, like gzip: the byte offsets are not the file's).
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from incident.tools.timestamps import LineParser

MAX_BYTES = 64 << 20  # larger documents are read as plain lines (parsing one costs ~10x its size)
_LIST_KEYS = ("events", "logEvents", "entries", "records", "Records", "items", "results", "data", "logs", "hits")
_cache: dict[tuple[str, int, int], bytes | None] = {}


def _stat_key(path: Path) -> tuple[str, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (str(path), st.st_size, st.st_mtime_ns)


def looks_like_document(head: bytes) -> bool:
    """A JSON array, or an object whose first line is not a whole record (pretty-printed)."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text[:1] == b"[":
        return True
    if text[:1] != b"{":
        return False
    first = text.split(b"\n", 1)[0].rstrip(b"\r ")
    return first in (b"{",) or (first.endswith((b"[", b"{")) and not first.endswith(b"}"))


def lines_of(path: Path) -> bytes | None:
    """The document at `path` as JSON lines (bytes ending in a newline), or None when the file
    is not a JSON document we can read so (then it is read as it is). Asked several times per
    file (sample, scan, patterns), so answers are kept per file version; a converted document
    only until the next one."""
    key = _stat_key(path)
    if key is None or key[1] > MAX_BYTES or key[1] == 0:
        return None
    if key in _cache:
        return _cache[key]
    out = _convert(path)
    if out is not None:
        for k in [k for k, v in _cache.items() if v is not None]:
            del _cache[k]
    if len(_cache) > 256:
        _cache.clear()
    _cache[key] = out
    return out


def _convert(path: Path) -> bytes | None:
    try:
        with open(path, "rb") as f:
            if not looks_like_document(f.read(4096)):
                return None
            f.seek(0)
            raw = f.read()
        doc = json.loads(raw)
    except (OSError, ValueError, RecursionError):
        return None
    items = _records(doc)
    if items is None:
        return None
    lines = [_line(x) for x in items]
    lines = [x for x in lines if x]
    if len(lines) > 1 and _descending(lines):
        lines.reverse()
    return b"".join(x + b"\n" for x in lines)


def _records(doc: object) -> list[object] | None:
    if isinstance(doc, list):
        return doc
    if not isinstance(doc, dict):
        return None
    for k in _LIST_KEYS:
        v = doc.get(k)
        if isinstance(v, dict) and isinstance(v.get("hits"), list):  # Elasticsearch
            v = v["hits"]
        if isinstance(v, list):
            return [x.get("_source", x) if isinstance(x, dict) and "_source" in x else x for x in v]
    return [doc]  # one record, pretty-printed


def _line(item: object) -> bytes:
    if isinstance(item, str):
        return item.rstrip("\n").replace("\n", "\\n").encode("utf-8", "replace")
    try:
        return json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "replace")
    except (TypeError, ValueError):
        return b""


def _descending(lines: list[bytes]) -> bool:
    # Only the order matters here: any fixed reference dates year-less stamps alike.
    p = LineParser(datetime(2100, 1, 1, tzinfo=UTC))
    first, last = p.parse(lines[0]), p.parse(lines[-1])
    return first is not None and last is not None and first.ts > last.ts


__all__ = ["MAX_BYTES", "lines_of", "looks_like_document"]
