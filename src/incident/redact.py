"""The one choke point before anything leaves the machine: secrets become `[REDACTED:<kind>]`.

Every byte sent to an LLM passes `redact` (or `redact_json`) first. Three passes, each linear:
1. the rules of `redact_rules` (known formats, key names, headers, URLs, private key blocks) as
   one combined anchor scan; each match goes to a small handler that decides the kind and whether
   it is a real credential or a benign look-alike (`token_count=42`, `password: null`);
2. the body lines of a private key whose END line is here but whose BEGIN line is not (a window
   that starts inside the block, or lines redacted one at a time by a tool and joined later);
3. key material with no name or prefix at all, by shape (long random base64/base64url runs).

Bias: a leak is worse than a false positive. Where a value's extent is ambiguous (a YAML value
with spaces, an unquoted header) the redaction runs to the end of the line.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from incident import redact_keys
from incident import redact_rules as rules
from incident.redact_rules import MARK

__all__ = ["MARK", "redact", "redact_counts", "redact_json"]

_SCAN, _SCAN_RULES = rules.anchor_scan()


class _Redactor:
    """One pass over one text; collects counts by kind."""

    def __init__(self, text: str):
        self.text = text
        self.counts: Counter[str] = Counter()
        self._ends: list[int] | None = None  # where each private key END line ends

    def sub(self, kind: str) -> str:
        self.counts[kind] += 1
        return rules.mark(kind)

    def run(self) -> str:
        text = self.text
        out: list[str] = []
        pos = 0
        for a in _SCAN.finditer(text):
            start = a.start()
            if start < pos:  # inside a span already replaced (a key block, a PEM body)
                continue
            for kind in _SCAN_RULES[a.lastgroup or ""]:
                m = rules.RULE_RX[kind].match(text, start)
                if m is None:
                    continue
                res = _HANDLERS.get(kind, _Redactor._token)(self, m, kind)
                if res is None:
                    continue
                replacement, end = res
                out.append(text[pos:start])
                out.append(replacement)
                pos = end
                break
        if not out:
            return text
        out.append(text[pos:])
        return "".join(out)

    # Each handler returns (replacement, end of the replaced span) or None to keep the text.

    def _token(self, m: re.Match[str], kind: str) -> tuple[str, int] | None:
        start = m.start()
        if start and self.text[start - 1] in rules.WORDISH and kind != "putty_key":
            return None  # a run inside a longer identifier or base64 blob, not a token of its own
        if kind == "aws_access_key_id" and m.group("aws_secret"):
            self.counts["aws_secret_key"] += 1
            return self.sub(kind) + m.group("aws_sep") + rules.mark("aws_secret_key"), m.end()
        if kind in ("slack_webhook", "discord_webhook"):
            path = m.start("slack_path" if kind == "slack_webhook" else "discord_path")
            return self.text[start:path] + self.sub(kind), m.end()
        return self.sub("private_key" if kind == "putty_key" else kind), m.end()

    def _private_key(self, m: re.Match[str], kind: str) -> tuple[str, int] | None:
        text = self.text
        if self._ends is None:  # found once: a text of many BEGIN lines must not search ahead from each
            self._ends = [e.end() for e in rules.KEY_END.finditer(text)] if "PRIVATE KEY" in text else []
        i = bisect.bisect_left(self._ends, m.end())
        if i < len(self._ends) and self._ends[i] <= m.end() + redact_keys.BLOCK_REACH:
            return self.sub("private_key"), self._ends[i]
        # No END line in reach: a block cut short by a cap, or logged one line per record. Its
        # body is what follows on the same line(s), then the base64 runs aligned under BEGIN.
        tail = redact_keys.KEY_TAIL.match(text, m.end())
        pos = tail.end() if tail else m.end()
        out = [self.sub("private_key")]
        for s, e in redact_keys.body_lines(text, m.start(), pos, forward=True):
            out += [text[pos:s], rules.mark("private_key")]
            pos = e
        return "".join(out), pos

    def _header(self, m: re.Match[str], kind: str) -> tuple[str, int] | None:
        start = m.start()
        if start and self.text[start - 1].isalnum():
            return None
        raw = m.group("hdr_val")
        q, inner, q2 = rules.unquote(raw.rstrip())
        scheme = rules.SCHEME.match(inner)
        keep = scheme.group(0) if scheme else ""
        if rules.benign(inner[len(keep) :]):
            return None
        trail = raw[len(raw.rstrip()) :]
        head = self.text[start : m.start("hdr_val")]
        return head + q + keep + self.sub("authorization") + q2 + trail, m.end()

    def _bearer(self, m: re.Match[str], kind: str) -> tuple[str, int] | None:
        val = m.group("bearer_val")
        if not any(c.isdigit() for c in val) and len(val) < 32:
            return None  # prose ("bearer authentication"), not a token
        return self.text[m.start() : m.start("bearer_val")] + self.sub("bearer_token"), m.end()

    def _url(self, m: re.Match[str], kind: str) -> tuple[str, int] | None:
        pw = m.group("url_pw") or m.group("url_pw2")
        if rules.benign(pw) or (m.group("url_pw2") and pw.split("/", 1)[0].isdigit()):
            return None  # `host:8080/path@x`: a port and a path, not a password
        return "://" + m.group("url_user") + ":" + self.sub("url_password") + "@", m.end()

    def _cli(self, m: re.Match[str], kind: str) -> tuple[str, int] | None:
        if rules.benign(m.group("cli_pw")):
            return None
        return self.text[m.start() : m.start("cli_pw")] + self.sub("password"), m.end()

    def _flag(self, m: re.Match[str], kind: str) -> tuple[str, int] | None:
        val = m.group("flag_val")
        if rules.benign(val):
            return None
        kind = rules.token_kind(val) or rules.kv_kind(m.group("flag_key"))
        return self.text[m.start() : m.start("flag_val")] + self.sub(kind), m.end()

    def _xml(self, m: re.Match[str], kind: str) -> tuple[str, int] | None:
        if rules.benign(m.group("xml_val")):
            return None
        return self.text[m.start() : m.start("xml_val")] + self.sub(rules.kv_kind(m.group("xml_key"))) + "</", m.end()

    def _kv(self, m: re.Match[str], kind: str) -> tuple[str, int] | None:
        text = self.text
        raw = m.group("kv_val")
        key = m.group("kv_key")
        if _word_ending_in_pass(text, m.start(), key):
            return None
        if m.group("kv_sep") == ":" and (raw is None or raw[:1] not in "\"'\\"):
            # `password: correct horse battery` in YAML, or inside a log message: where the value
            # ends is unknown, so it runs to the end of the line (or of the string it is in).
            line_start = text.rfind("\n", 0, m.start()) + 1
            yaml = _YAML_KEY.fullmatch(text, line_start, m.start()) is not None
            if yaml or rules.kv_kind(key) not in rules.WEAK_KINDS:
                return self._yaml(m, line_start, yaml=yaml)
        if raw is None:
            return None
        q, inner, q2 = rules.unquote(raw)
        if _keep_value(key, inner, _key_name(text, m.start(), key)):
            return None
        kind = rules.token_kind(inner) or rules.kv_kind(key)
        return text[m.start() : m.start("kv_val")] + q + self.sub(kind) + q2, m.end()

    def _yaml(self, m: re.Match[str], line_start: int, *, yaml: bool = True) -> tuple[str, int] | None:
        """`key: value with spaces  # comment` to the end of the line; a block scalar's lines too."""
        text = self.text
        vstart = m.end("kv_sep")
        eol = text.find("\n", vstart)
        eol = len(text) if eol < 0 else eol
        if not yaml and len(_UNESCAPED_QUOTE.findall(text, line_start, m.start())) % 2:
            close = _UNESCAPED_QUOTE.search(text, vstart, eol)  # inside a JSON string: to its end
            eol = close.start() if close else eol
        value = text[vstart:eol].strip()
        if value.endswith("\r"):
            value = value[:-1].rstrip()
        comment = re.search(r"\s#\s", value)
        if comment:
            value = value[: comment.start()].rstrip()
        key = m.group("kv_key")
        if value in ("|", ">", "|-", ">-", "|+", ">+"):
            indent = len(text[line_start : m.start()]) - len(text[line_start : m.start()].lstrip())
            end = _block_end(text, eol, indent)
            if end == eol or rules.benign(text[eol:end]) or rules.kv_kind(key) in rules.WEAK_KINDS:
                return None
            return text[m.start() : vstart] + " " + value + "\n" + " " * (indent + 2) + self.sub(rules.kv_kind(key)), end
        q, inner, q2 = rules.unquote(value)
        if _keep_value(key, inner, _key_name(text, m.start(), key)):
            return None
        kind = rules.token_kind(inner) or rules.kv_kind(key)
        vpos = text.index(value, vstart)
        return text[m.start() : vpos] + q + self.sub(kind) + q2, vpos + len(value)


_YAML_KEY = re.compile(r"[ \t]*(?:-[ \t]+)?[\"']?[A-Za-z0-9_.\-]*")
_UNESCAPED_QUOTE = re.compile(r'(?<!\\)"')


def _word_ending_in_pass(text: str, start: int, key: str) -> bool:
    """`bypass=`, `compass: north`: a word that ends in "pass" (`dbPass`, `DB_PASS` are keys)."""
    if key.lower() != "pass" or not start or not text[start - 1].isalpha():
        return False
    return not (key[0].isupper() and text[start - 1].islower())


def _key_name(text: str, start: int, key: str) -> str:
    """The whole key a keyword ends (`Sec-WebSocket-Key` for `Key`)."""
    i = start
    while i > 0 and start - i < 64 and (text[i - 1].isalnum() or text[i - 1] in "_-."):
        i -= 1
    return text[i:start] + key


def _keep_value(key: str, inner: str, name: str = "") -> bool:
    """A value under a secret-named key that is nothing to hide."""
    if rules.benign(inner):
        return True
    if rules.PUBLIC_KEY_NAME.search(name or key):
        return True
    norm = re.sub(r"[_\-]", "", key.lower())
    if norm == "pwd" and inner.startswith(("/", "~")):
        return True  # the shell's working directory
    if norm in rules.NUMERIC_OK and rules.NUMBER.fullmatch(inner):
        return True  # `token=42`, `sig=1`, `pass=3`: counters and flags, too short to be a credential
    kind = rules.kv_kind(key)
    return kind in rules.WEAK_KINDS and rules.token_kind(inner) is None and not rules.credential_shape(inner, kind)


def _block_end(text: str, eol: int, indent: int) -> int:
    """End of a YAML block scalar: the following lines indented deeper than its key."""
    pos = eol
    end = eol
    while pos < len(text):
        nxt = text.find("\n", pos + 1)
        nxt = len(text) if nxt < 0 else nxt
        line = text[pos + 1 : nxt]
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        if line.strip():
            end = nxt
        pos = nxt
    return end


_HANDLERS: dict[str, Callable[[_Redactor, re.Match[str], str], tuple[str, int] | None]] = {
    "private_key": _Redactor._private_key,
    "authorization": _Redactor._header,
    "bearer": _Redactor._bearer,
    "url_password": _Redactor._url,
    "cli_password": _Redactor._cli,
    "cli_flag": _Redactor._flag,
    "xml": _Redactor._xml,
    "kv": _Redactor._kv,
}


# -- key material by shape

# Long base64/base64url runs with no key name or known prefix: a private key's body lines logged
# one per record, an AWS secret key on its own, an unknown vendor's key; shorter runs only with
# base64 padding. Benign base64 (data URIs, SRI hashes, images, ids, digests, encoded text) is
# told apart by what precedes it, by its shape and by what it decodes to.
# (A short run must not be followed by a base64 character, nor by a marker: `k1=v1=` would else
# lose `v1=` on one pass and `k1=` on the next.)
_B64_RUN = re.compile(
    r"(?<![A-Za-z0-9+/_\-])(?:[A-Za-z0-9+/_\-]{24,}={0,2}|[A-Za-z0-9+/]{10,23}={1,2}(?![A-Za-z0-9+/=\[]))"
)
_B64_BENIGN_BEFORE = ("base64,", *(f"{h}{c}" for h in ("sha1", "sha224", "sha256", "sha384", "sha512") for c in "-:=~"),
                      "md5:", "md5=")
_B64_BENIGN_START = ("iVBORw0KGgo", "/9j/", "R0lGOD", "UklGR", "JVBERi0", "PD94bWwg", "PHN2Zy")


# Keys naming a value that is an id, a digest or a nonce: base64 under them is data.
_BENIGN_KEY = re.compile(
    r"(?:(?:^|[_\-.])(?i:ids?|id-2)|[a-z](?:Ids?|IDs?))$"  # `request_id`, `x-amz-id-2`, `traceId`; not `valid`
    r"|(?i:etag|md5|sha\d*|hash|checksum|digest|integrity|crc32c?|fingerprint|nonce|cursor"
    r"|websocket-key|websocket-accept|version|revision|commit|uid|guid)$"
)


def _key_before(text: str, start: int) -> str:
    """The key name a value at `start` is written under (`x-amz-id-2: …`, `"etag":"…"`), or ""."""
    i = start
    while i > 0 and start - i < 6 and text[i - 1] in " \t\"'\\":
        i -= 1
    if i == 0 or text[i - 1] not in ":=>":
        return ""
    i -= 2 if text[i - 1] == ">" and i > 1 and text[i - 2] == "=" else 1
    while i > 0 and text[i - 1] in " \t\"'\\" and start - i < 12:
        i -= 1
    end = i
    while i > 0 and end - i < 64 and (text[i - 1].isalnum() or text[i - 1] in "_.-"):
        i -= 1
    return text[i:end]


def _shape_kind(text: str, start: int, run: str) -> str | None:
    """The kind of a key-like run at `start`, or None when it is data."""
    if run.startswith(_B64_BENIGN_START) or text[max(0, start - 8) : start].lower().endswith(_B64_BENIGN_BEFORE):
        return None
    if not rules.looks_random(run) or _BENIGN_KEY.search(_key_before(text, start)):
        return None
    decoded = rules.decoded_text(run)
    if decoded is None:
        return "high_entropy"
    # Encoded text is ordinary data (a cursor, a GraphQL id) unless what it encodes is a secret.
    if rules.BASIC_PAIR.fullmatch(decoded) or redact_counts(decoded)[1]:
        return "encoded_secret"
    return None


def _redact_b64_runs(text: str, counts: Counter[str]) -> str:
    out: list[str] = []
    pos = 0
    for m in _B64_RUN.finditer(text):
        run = m.group()
        if run.islower() or run.isupper():
            continue  # one case only: a word, an id, a hex digest
        start = m.start()
        if start and text[start - 1] == "\\" and run[0] in "nrt":
            start, run = start + 1, run[1:]  # `\nMIIE…`: the escape is not part of the run
            if len(run.rstrip("=")) < 24 and not run.endswith("="):
                continue
        kind = _shape_kind(text, start, run)
        if kind is None:
            continue
        out += [text[pos:start], rules.mark(kind)]
        counts[kind] += 1
        pos = start + len(run)
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


def redact_counts(text: str) -> tuple[str, dict[str, int]]:
    """Redact `text`; return it with the number of redactions by kind."""
    if not text:
        return text, {}
    r = _Redactor(text)
    out = _redact_b64_runs(redact_keys.orphan_key_ends(r.run(), r.counts), r.counts)
    return out, dict(r.counts)


def redact(text: str) -> tuple[str, int]:
    """Redact `text`; return it with the number of redactions."""
    out, counts = redact_counts(text)
    return out, sum(counts.values())


_SENSITIVE_KEY = re.compile(rf"(?i)(?:^|.*?)(?P<k>{rules.KEYWORDS}|{rules.HEADERS}|client[_\-]?secret)$")


def _sensitive_key(key: str) -> str | None:
    m = _SENSITIVE_KEY.match(key)
    if m is None or _word_ending_in_pass(key, m.start("k"), m.group("k")) or rules.PUBLIC_KEY_NAME.search(key):
        return None
    k = m.group("k")
    if re.fullmatch(rules.HEADERS, k, re.IGNORECASE):
        return "authorization"
    return rules.kv_kind(k)


def redact_json(obj: Any) -> tuple[Any, int]:
    """Redact a JSON-like structure: values under secret-named keys, and every string inside."""
    total = 0

    def walk(node: Any, kind: str | None) -> Any:
        nonlocal total
        if isinstance(node, dict):
            out = {}
            for k, v in node.items():
                nk = k
                if isinstance(k, str):
                    nk, n = redact(k)
                    total += n
                out[nk] = walk(v, _sensitive_key(k) if isinstance(k, str) else None)
            return out
        if isinstance(node, (list, tuple)):
            return [walk(v, kind) for v in node]
        if kind in rules.WEAK_KINDS and not (isinstance(node, str) and rules.credential_shape(node, kind)):
            kind = None  # `"key": "user:42"`, `"session": 3`: a weak name needs a credential's shape
        if kind is not None and isinstance(node, (str, int, float)) and not isinstance(node, bool):
            if isinstance(node, str) and rules.benign(node):
                return node
            if kind in ("token", "signature") and isinstance(node, int):
                return node
            total += 1
            return rules.mark(rules.token_kind(node) or kind if isinstance(node, str) else kind)
        if isinstance(node, str):
            s, n = redact(node)
            total += n
            return s
        return node

    return walk(obj, None), total
