"""The one choke point before anything leaves the machine: secrets become `[REDACTED:<kind>]`.

Every byte sent to an LLM passes `redact` (or `redact_json`) first. The rules are one combined
regular expression, scanned once, so redacting a large log stays fast; each match goes to a small
handler that decides the kind and whether it is a real credential or a benign look-alike
(`token_count=42`, `password: null`, a pod name that happens to start with `sk-`).

Bias: a leak is worse than a false positive. Where a value's extent is ambiguous (a YAML value
with spaces, an unquoted header) the redaction runs to the end of the line.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

MARK = "[REDACTED:{}]"

_B64 = r"A-Za-z0-9+/"

# Credentials in known formats: kind -> pattern. Matched at a position the anchor scan found.
_TOKENS: dict[str, str] = {
    "anthropic_key": r"sk-ant-[A-Za-z0-9_\-]{24,}",
    "openai_key": r"sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{32,}|[A-Za-z0-9]{32,})",
    "github_token": r"(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})",
    "gitlab_token": r"gl(?:pat|dt|rt|ptt|ft|cbt|soat)-[A-Za-z0-9_\-]{20,}",
    "slack_token": r"(?:xox[abposr]-[A-Za-z0-9\-]{10,}|xapp-\d-[A-Za-z0-9\-]{10,})",
    "stripe_key": r"(?:(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}|whsec_[A-Za-z0-9]{20,})",
    "google_api_key": r"AIza[0-9A-Za-z_\-]{35}",
    "google_oauth": r"(?:ya29\.[0-9A-Za-z_\-]{20,}|GOCSPX-[A-Za-z0-9_\-]{20,})",
    "npm_token": r"npm_[A-Za-z0-9]{36}",
    "pypi_token": r"pypi-AgE[A-Za-z0-9_\-]{50,}",
    "sendgrid_key": r"SG\.[A-Za-z0-9_\-]{20,}\.[A-Za-z0-9_\-]{20,}",
    "huggingface_token": r"hf_[A-Za-z0-9]{30,}",
    "jwt": r"eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*",
    # An access key id, and the secret key when it follows on the same line (a CSV of credentials).
    "aws_access_key_id": r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])"
    r"(?:(?P<aws_sep>[ \t,;:|=\"']{1,8})(?P<aws_secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=]))?",
}

# Key names whose value is a credential. The match starts at the sensitive word, so the key may
# carry any prefix (`DB_PASSWORD`, `accessToken`, `x-goog-api-key`) but must END with it:
# `token_count`, `max_tokens` and `password_reset_requested` are not keys of secrets.
_KEYWORDS = (
    r"pass(?:word|wd|phrase)|pwd|secret(?:[_\-]?(?:access[_\-]?)?key)?|token|api[_\-]?key"
    r"|access[_\-]?key(?:[_\-]?id)?|private[_\-]?key|signing[_\-]?key|account[_\-]?key"
    r"|master[_\-]?key|encryption[_\-]?key|credentials?|signature|sig"
)
_QUOTED = r"\"(?:[^\"\\\r\n]|\\.)*\"|'(?:[^'\\\r\n]|\\.)*'|\\\"(?:[^\"\\\r\n]|\\[^\"\r\n])*\\\""
# A quote that never closes (a line cut by a size cap): the value runs to the end of the line.
_QUOTED += r"|\"(?:[^\"\\\r\n]|\\.)*|'(?:[^'\\\r\n]|\\.)*"
_BARE = r"[^\s\"'<>&,;})\]\\=:|][^\s\"'<>&,;})\]\\]*"
_HEADERS = r"(?:proxy-)?authorization|x-api-key|x-auth-token|api-key|set-cookie|cookie|x-amz-security-token"

_RULES: dict[str, str] = {
    "private_key": r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
    r"(?:[\s\S]{0,20000}?-----END[A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----"
    rf"|(?:(?:\s|\\n|\\r)*[{_B64}=]{{16,}})*)",
    "slack_webhook": r"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<slack_path>[A-Za-z0-9_/\-]+)",
    "discord_webhook": r"discord(?:app)?\.com/api/webhooks/(?P<discord_path>\d+/[A-Za-z0-9_\-]+)",
    **_TOKENS,
    "authorization": r"(?i:authorization|cookie)(?:\\?[\"'])?[ \t]*[:=][ \t]*"
    rf"(?P<hdr_val>{_QUOTED}|[^\r\n\"]+)",
    "bearer": r"[Bb]earer[ \t]+(?P<bearer_val>[A-Za-z0-9._~+/=\-]{16,})",
    "url_password": r"://(?P<url_user>[^/\s:@\"'<>\[\]]*):(?P<url_pw>[^/\s@\"'<>]+)@(?=[A-Za-z0-9\[])",
    "cli_password": r"(?:-u|--user)[ \t]+(?P<cli_user>[^\s:\"'\[\]]+):(?P<cli_pw>[^\s\"']+)",
    "cli_flag": r"--(?i:(?P<flag_key>password|passwd|token|secret|api-key|access-token|client-secret"
    r"|auth-token))[ \t]+(?P<flag_val>[^\s\-:=][^\s]*)",
    "kv": rf"(?i:(?P<kv_key>{_KEYWORDS}))(?:\\?[\"'])?[ \t]*(?P<kv_sep>=>|[:=])[ \t]*"
    rf"(?P<kv_val>{_QUOTED}|{_BARE})?",
    "xml": r"(?i:(?P<xml_key>password|passwd|secret|token|api_?key))>(?P<xml_val>[^<]{1,4000})</",
}
_RULE_RX = {kind: re.compile(p) for kind, p in _RULES.items()}
_TOKEN_RX = re.compile("|".join(f"(?P<{name}>{pat})" for name, pat in _TOKENS.items()))


def _ci(word: str) -> list[tuple[str, str]]:
    """Anchors for a case-insensitive word: (first char, the rest as a case-insensitive regex)."""
    rest = "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word[1:])
    return [(word[0].lower(), rest), (word[0].upper(), rest)]


_KW = ["kv", "xml"]
# Literal starts of the rules: (first char, regex for the rest, rules to try there, in order).
# The scan for anchors is one regular expression whose branches each open with a distinct
# literal character, so the engine skips every other position without entering the branches:
# that is what keeps 10 MB under a second.
_ANCHORS: list[tuple[str, str, list[str]]] = [
    ("s", r"k-", ["anthropic_key", "openai_key"]),
    ("s", r"k_(?:live|test)_", ["stripe_key"]),
    ("r", r"k_(?:live|test)_", ["stripe_key"]),
    ("w", r"hsec_", ["stripe_key"]),
    ("g", r"h[pousr]_|ithub_pat_", ["github_token"]),
    ("g", r"l(?:pat|dt|rt|ptt|ft|cbt|soat)-", ["gitlab_token"]),
    ("x", r"ox[abposr]-|app-", ["slack_token"]),
    ("A", r"Iza", ["google_api_key"]),
    ("A", r"KIA|SIA|BIA|CCA", ["aws_access_key_id"]),
    ("y", r"a29\.", ["google_oauth"]),
    ("G", r"OCSPX-", ["google_oauth"]),
    ("n", r"pm_", ["npm_token"]),
    ("p", r"ypi-AgE", ["pypi_token"]),
    ("S", r"G\.", ["sendgrid_key"]),
    ("h", r"f_", ["huggingface_token"]),
    ("h", r"ooks\.slack\.com/", ["slack_webhook"]),
    ("d", r"iscord", ["discord_webhook"]),
    ("e", r"yJ", ["jwt"]),
    ("-", r"----BEGIN", ["private_key"]),
    ("-", r"u[ \t]|-user[ \t]", ["cli_password"]),
    ("-", r"-[A-Za-z]", ["cli_flag"]),
    (":", r"//", ["url_password"]),
    *[(c, r, ["bearer"]) for c, r in _ci("bearer")],
    *[(c, r, ["authorization"]) for w in ("authorization", "cookie") for c, r in _ci(w)],
    *[
        (c, r, _KW)
        for w in ("pass", "pwd", "secret", "token", "api_key", "api-key", "apikey", "access", "private",
                  "signing", "account", "master", "encryption", "credential", "sig")
        for c, r in _ci(w)
    ],
]


def _anchor_scan() -> tuple[re.Pattern[str], dict[str, list[str]]]:
    by_char: dict[str, list[tuple[str, str]]] = {}
    groups: dict[str, list[str]] = {}
    for i, (c, rest, kinds) in enumerate(_ANCHORS):
        by_char.setdefault(c, []).append((f"a{i}", rest))
        groups[f"a{i}"] = kinds
    branches = [
        # The rest is a lookahead: a scan match is one character long, so an anchor never hides
        # another that starts inside it (`--token=…` holds both `--t` and `token`).
        re.escape(c) + "(?=" + "|".join(f"(?P<{g}>{r})" for g, r in alts) + ")" for c, alts in by_char.items()
    ]
    return re.compile("|".join(branches)), groups


_SCAN, _SCAN_RULES = _anchor_scan()
_WORDISH = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_PLACEHOLDER = re.compile(
    r"(?i)(?:|null|none|nil|true|false|undefined|empty|string|str|bool|int|\*+|x{3,}|\.{3}|-+"
    r"|\[redacted[^\]]*\]?|<[^<>]*>|\(?redacted\)?|hidden|masked|\$\{?[A-Za-z_][\w.]*\}?|\{\{.*\}\}"
    r"|%\(?[\w.]*\)?s|\{[\w.]*\}|:\w+)"
)
_NUMBER = re.compile(r"[+-]?\d{1,3}(?:\.\d+)?")
_SCHEME = re.compile(r"(?i)(bearer|basic|token|bot|digest|negotiate|ntlm|apikey|sswss?|aws4-hmac-sha256)\s+")


def _mark(kind: str) -> str:
    return MARK.format(kind)


_KIND_OF_KEY = {
    "password": "password", "passwd": "password", "passphrase": "password", "pwd": "password",
    "secret": "secret", "credential": "secret", "credentials": "secret",
    "secretaccesskey": "aws_secret_key", "secretkey": "secret_key", "token": "token",
    "apikey": "api_key", "accesskey": "access_key", "accesskeyid": "access_key",
    "privatekey": "private_key", "signingkey": "signing_key", "accountkey": "account_key",
    "masterkey": "master_key", "encryptionkey": "encryption_key", "signature": "signature", "sig": "signature",
}


def _kv_kind(key: str) -> str:
    return _KIND_OF_KEY.get(re.sub(r"[_\-]", "", key.lower()), "secret")


def _unquote(v: str) -> tuple[str, str, str]:
    """Split a value into (opening quote, inner, closing quote)."""
    for q in ('\\"', '"', "'"):
        if len(v) >= 2 * len(q) and v.startswith(q) and v.endswith(q):
            return q, v[len(q) : -len(q)], q
    return "", v, ""


def _benign(value: str) -> bool:
    """An empty, templated, masked or already redacted value: nothing to hide."""
    v = value.strip()
    return v.startswith("[REDACTED:") or _PLACEHOLDER.fullmatch(v) is not None


def _token_kind(value: str) -> str | None:
    m = _TOKEN_RX.fullmatch(value)
    return m.lastgroup if m else None


class _Redactor:
    """One pass over one text; collects counts by kind."""

    def __init__(self, text: str):
        self.text = text
        self.counts: Counter[str] = Counter()

    def sub(self, kind: str) -> str:
        self.counts[kind] += 1
        return _mark(kind)

    def run(self) -> str:
        text = self.text
        out: list[str] = []
        pos = 0
        for a in _SCAN.finditer(text):
            start = a.start()
            if start < pos:  # inside a span already replaced (a key block, a PEM body)
                continue
            for kind in _SCAN_RULES[a.lastgroup or ""]:
                m = _RULE_RX[kind].match(text, start)
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
        if start and self.text[start - 1] in _WORDISH and kind != "private_key":
            return None  # a run inside a longer identifier or base64 blob, not a token of its own
        if kind == "aws_access_key_id" and m.group("aws_secret"):
            self.counts["aws_secret_key"] += 1
            return self.sub(kind) + m.group("aws_sep") + _mark("aws_secret_key"), m.end()
        if kind in ("slack_webhook", "discord_webhook"):
            path = m.start("slack_path" if kind == "slack_webhook" else "discord_path")
            return self.text[start:path] + self.sub(kind), m.end()
        return self.sub(kind), m.end()

    def _header(self, m: re.Match[str], kind: str) -> tuple[str, int] | None:
        start = m.start()
        if start and self.text[start - 1].isalnum():
            return None
        raw = m.group("hdr_val")
        q, inner, q2 = _unquote(raw.rstrip())
        scheme = _SCHEME.match(inner)
        keep = scheme.group(0) if scheme else ""
        if _benign(inner[len(keep) :]):
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
        if _benign(m.group("url_pw")):
            return None
        return "://" + m.group("url_user") + ":" + self.sub("url_password") + "@", m.end()

    def _cli(self, m: re.Match[str], kind: str) -> tuple[str, int] | None:
        if _benign(m.group("cli_pw")):
            return None
        return self.text[m.start() : m.start("cli_pw")] + self.sub("password"), m.end()

    def _flag(self, m: re.Match[str], kind: str) -> tuple[str, int] | None:
        val = m.group("flag_val")
        if _benign(val):
            return None
        kind = _token_kind(val) or _kv_kind(m.group("flag_key"))
        return self.text[m.start() : m.start("flag_val")] + self.sub(kind), m.end()

    def _xml(self, m: re.Match[str], kind: str) -> tuple[str, int] | None:
        if _benign(m.group("xml_val")):
            return None
        return self.text[m.start() : m.start("xml_val")] + self.sub(_kv_kind(m.group("xml_key"))) + "</", m.end()

    def _kv(self, m: re.Match[str], kind: str) -> tuple[str, int] | None:
        text = self.text
        raw = m.group("kv_val")
        key = m.group("kv_key")
        end = m.end()
        if m.group("kv_sep") == ":" and (raw is None or raw[:1] not in "\"'\\"):
            line_start = text.rfind("\n", 0, m.start()) + 1
            prefix = text[line_start : m.start()]
            if _looks_like_yaml_key(prefix):
                return self._yaml(m, line_start)
        if raw is None:
            return None
        q, inner, q2 = _unquote(raw)
        if _benign(inner):
            return None
        if key.lower() == "pwd" and inner.startswith(("/", "~")):
            return None  # the shell's working directory
        if key.lower() in ("sig", "signature", "token") and _NUMBER.fullmatch(inner):
            return None  # `token=42`, `sig=1`: counters and flags, too short to be a credential
        kind = _token_kind(inner) or _kv_kind(key)
        return text[m.start() : m.start("kv_val")] + q + self.sub(kind) + q2, end

    def _yaml(self, m: re.Match[str], line_start: int) -> tuple[str, int] | None:
        """`key: value with spaces  # comment` to the end of the line; a block scalar's lines too."""
        text = self.text
        vstart = m.end("kv_sep")
        eol = text.find("\n", vstart)
        eol = len(text) if eol < 0 else eol
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
            if end == eol or _benign(text[eol:end]):
                return None
            return text[m.start() : vstart] + " " + value + "\n" + " " * (indent + 2) + self.sub(
                _kv_kind(key)
            ), end
        q, inner, q2 = _unquote(value)
        if _benign(inner) or (key.lower() in ("token", "sig", "signature") and _NUMBER.fullmatch(inner)):
            return None
        kind = _token_kind(inner) or _kv_kind(key)
        vpos = text.index(value, vstart)
        return text[m.start() : vpos] + q + self.sub(kind) + q2, vpos + len(value)


_YAML_KEY = re.compile(r"[ \t]*(?:-[ \t]+)?[\"']?[A-Za-z0-9_.\-]*")


def _looks_like_yaml_key(prefix: str) -> bool:
    """Is everything before the keyword on its line just indentation and the rest of the key?"""
    return _YAML_KEY.fullmatch(prefix) is not None


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
    "authorization": _Redactor._header,
    "bearer": _Redactor._bearer,
    "url_password": _Redactor._url,
    "cli_password": _Redactor._cli,
    "cli_flag": _Redactor._flag,
    "xml": _Redactor._xml,
    "kv": _Redactor._kv,
}


# Long base64 runs with no key name or known prefix: a private key's body lines logged one per
# record, an AWS secret key on its own, an unknown vendor's key. Benign long base64 (data URIs,
# SRI hashes, images) and paths are told apart by what precedes them and by their shape.
_B64_RUN = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{32,}={0,2}")
_B64_BENIGN_BEFORE = re.compile(r"(?:base64,|sha(?:1|256|384|512)-|sha(?:1|256|384|512)[:=])$")
_B64_BENIGN_START = ("iVBORw0KGgo", "/9j/", "R0lGOD", "UklGR", "JVBERi0", "PD94bWwg", "PHN2Zy")
_WORD = re.compile(r"[A-Z]?[a-z]{3,}")
_WORDY = re.compile(r"[A-Za-z]?[a-z]+(?:[A-Z][a-z]+)*\d{0,4}|\d+|v\d+")


def _looks_random(run: str) -> bool:
    s = run.rstrip("=")
    upper = sum(c.isupper() for c in s)
    lower = sum(c.islower() for c in s)
    if upper < 4 or lower < 4 or not any(c.isdigit() or c == "+" for c in s):
        return False
    if sum(len(w) for w in _WORD.findall(s)) >= 0.6 * len(s):
        return False  # CamelCaseIdentifiersAndWords: random base64 is rarely more than a fifth words
    if "/" in s:
        segments = [seg for seg in s.split("/") if seg]
        if sum(_WORDY.fullmatch(seg) is not None for seg in segments) >= 0.6 * len(segments):
            return False  # a path or a dotted name, not key material
    counts = Counter(s)
    n = len(s)
    entropy = -sum(c / n * math.log2(c / n) for c in counts.values())
    return entropy >= 4.0


def _redact_b64_runs(text: str, counts: Counter[str]) -> str:
    out: list[str] = []
    pos = 0
    for m in _B64_RUN.finditer(text):
        start = m.start()
        if start and text[start - 1] in "_-.@%":  # part of an identifier, a file name or an address
            continue
        run = m.group()
        if run.startswith(_B64_BENIGN_START) or _B64_BENIGN_BEFORE.search(text, max(0, start - 8), start):
            continue
        if not _looks_random(run):
            continue
        out.append(text[pos:start])
        out.append(_mark("high_entropy"))
        counts["high_entropy"] += 1
        pos = m.end()
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


def redact_counts(text: str) -> tuple[str, dict[str, int]]:
    """Redact `text`; return it with the number of redactions by kind."""
    if not text:
        return text, {}
    r = _Redactor(text)
    out = _redact_b64_runs(r.run(), r.counts)
    return out, dict(r.counts)


def redact(text: str) -> tuple[str, int]:
    """Redact `text`; return it with the number of redactions."""
    out, counts = redact_counts(text)
    return out, sum(counts.values())


_SENSITIVE_KEY = re.compile(
    rf"(?i)(?:^|.*?)(?P<k>{_KEYWORDS}|{_HEADERS}|client[_\-]?secret|auth)$"
)


def _sensitive_key(key: str) -> str | None:
    m = _SENSITIVE_KEY.match(key)
    if m is None:
        return None
    k = m.group("k")
    if re.fullmatch(_HEADERS, k, re.IGNORECASE):
        return "authorization"
    return "secret" if k.lower() == "auth" else _kv_kind(k)


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
        if kind is not None and isinstance(node, (str, int, float)) and not isinstance(node, bool):
            if isinstance(node, str) and _benign(node):
                return node
            if kind in ("token", "signature") and isinstance(node, int):
                return node
            total += 1
            return _mark(_token_kind(node) or kind if isinstance(node, str) else kind)
        if isinstance(node, str):
            s, n = redact(node)
            total += n
            return s
        return node

    return walk(obj, None), total
