"""What counts as a secret: the redactor's rules as data, and the predicates its handlers use.

`redact.py` runs these; nothing here scans a whole text. Three families:
- known formats (`TOKENS`): a vendor prefix or a fixed shape, caught wherever they appear;
- key names (`KEYWORDS`): the value after `password=`, `"apiKey": "…"`, `token: …`; weak key
  names (`key`, `session`, `sid`, `auth`) only when the value is shaped like a credential;
- shapes (`looks_random`, `credential_shape`): key material with no name or prefix at all.
"""

from __future__ import annotations

import binascii
import math
import re
from collections import Counter

MARK = "[REDACTED:{}]"


def mark(kind: str) -> str:
    return MARK.format(kind)


# Credentials in known formats: kind -> pattern. Matched at a position the anchor scan found.
# Formats whose prefix opens with a character common in logs (Linear `lin_api_`, Heroku `HRKU-`,
# Google refresh tokens `1//0`) have no rule: their random part is caught by shape, and an anchor
# on `l`, `H` or `1` would slow the scan of every log line.
TOKENS: dict[str, str] = {
    "anthropic_key": r"sk-ant-[A-Za-z0-9_\-]{24,}",
    "openai_key": r"sk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_\-]{32,}|[A-Za-z0-9]{32,})",
    "github_token": r"(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})",
    "gitlab_token": r"gl(?:pat|dt|rt|ptt|ft|cbt|soat)-[A-Za-z0-9_\-]{20,}",
    "slack_token": r"(?:xox[abposre]-[A-Za-z0-9\-]{10,}|xapp-\d-[A-Za-z0-9\-]{10,})",
    "stripe_key": r"(?:(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}|whsec_[A-Za-z0-9]{20,})",
    "google_api_key": r"AIza[0-9A-Za-z_\-]{35}",
    "google_oauth": r"(?:ya29\.[0-9A-Za-z_\-]{20,}|GOCSPX-[A-Za-z0-9_\-]{20,})",
    "npm_token": r"npm_[A-Za-z0-9]{36}",
    "pypi_token": r"pypi-AgE[A-Za-z0-9_\-]{50,}",
    "sendgrid_key": r"SG\.[A-Za-z0-9_\-]{20,}\.[A-Za-z0-9_\-]{20,}",
    "huggingface_token": r"hf_[A-Za-z0-9]{30,}",
    "jwt": r"eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*",
    "vault_token": r"hv[sbr]\.[A-Za-z0-9_\-]{24,}",
    "openshift_token": r"sha256~[A-Za-z0-9_\-]{43}",
    "docker_token": r"dckr_(?:pat|oat)_[A-Za-z0-9_\-]{20,}",
    "digitalocean_token": r"do[opr]_v1_[a-f0-9]{64}",
    "shopify_token": r"shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}",
    "grafana_token": r"(?:glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_[A-Za-z0-9+/]{32,}={0,2})",
    "sentry_token": r"sntry[su]_[A-Za-z0-9+/=_\-]{30,}",
    "databricks_token": r"dapi[a-f0-9]{32}(?:-\d+)?",
    "age_secret_key": r"AGE-SECRET-KEY-1[0-9A-Z]{58}",
    "square_token": r"sq0(?:atp|csp)-[A-Za-z0-9_\-]{22,}",
    "postman_token": r"PMAK-[a-f0-9]{24}-[a-f0-9]{34}",
    "pulumi_token": r"pul-[a-f0-9]{40}",
    "doppler_token": r"dp\.(?:st|ct|sa|scim|audit|pt)\.(?:[a-z0-9_\-]{1,40}\.)?[A-Za-z0-9]{40,44}",
    "newrelic_key": r"NR(?:AK|AA|II|JS)-[A-Za-z0-9]{20,}",
    "mailgun_key": r"key-[a-f0-9]{32}",
    # Fernet tokens (OpenStack Keystone, Airflow): version byte 0x80 and a timestamp, base64url.
    "fernet_token": r"gAAAAA[A-Za-z0-9_\-]{60,}={0,2}",
    # An access key id, and the secret key when it follows on the same line (a CSV of credentials).
    "aws_access_key_id": r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Za-z0-9])"
    r"(?:(?P<aws_sep>[ \t,;:|=\"']{1,8})(?P<aws_secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=]))?",
}

# Key names whose value is a credential. The match starts at the sensitive word, so the key may
# carry any prefix (`DB_PASSWORD`, `accessToken`, `x-goog-api-key`) but must END with it:
# `token_count`, `max_tokens` and `password_reset_requested` are not keys of secrets.
KEYWORDS = (
    r"pass(?:word|wd|phrase)?|pwd|secret(?:[_\-]?(?:access[_\-]?)?key(?:[_\-]?base)?|[_\-]?id)?|token|api[_\-]?key"
    r"|access[_\-]?key(?:[_\-]?id)?|private[_\-]?key|signing[_\-]?key|account[_\-]?key"
    r"|master[_\-]?key|encryption[_\-]?key|credentials?|signature|sig"
    # Weak names: a cache key, a session counter or `auth: failed` are common, so these redact
    # only a value shaped like a credential (`credential_shape`).
    r"|session(?:[_\-]?id)?|sess(?:ion)?id|sid|key|auth|salt"
)
WEAK_KINDS = frozenset({"session", "key", "auth", "salt"})
QUOTED = r"\"(?:[^\"\\\r\n]|\\.)*\"|'(?:[^'\\\r\n]|\\.)*'|\\\"(?:[^\"\\\r\n]|\\[^\"\r\n])*\\\""
# A quote that never closes (a line cut by a size cap): the value runs to the end of the line.
QUOTED += r"|\"(?:[^\"\\\r\n]|\\.)*|'(?:[^'\\\r\n]|\\.)*"
BARE = r"[^\s\"'<>&,;})\]\\=:|][^\s\"'<>&,;})\]\\]*"
HEADERS = r"(?:proxy-)?authorization|x-api-key|x-auth-token|api-key|set-cookie|cookie|x-amz-security-token"
B64 = r"A-Za-z0-9+/"

# A private key's armour lines: PEM and OpenSSH (5 dashes), SSH2/SECSH (4 dashes and spaces).
KEY_BEGIN = r"-{4,5} ?BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)? ?-{4,5}"
KEY_END = re.compile(r"-{4,5} ?END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)? ?-{4,5}")

RULES: dict[str, str] = {
    "private_key": KEY_BEGIN,
    # A PuTTY key file whole; cut short, through its private lines; cut shorter, its first line.
    "putty_key": r"PuTTY-User-Key-File-\d+:(?:[\s\S]{0,20000}?Private-MAC:[ \t]*[0-9a-fA-F]*"
    rf"|[\s\S]{{0,20000}}?Private-Lines:[ \t]*\d+(?:(?:[ \t\r\n]|\\+[nr])+[{B64}=]+)*|[^\r\n]*)",
    "slack_webhook": r"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<slack_path>[A-Za-z0-9_/\-]+)",
    "discord_webhook": r"discord(?:app)?\.com/api/webhooks/(?P<discord_path>\d+/[A-Za-z0-9_\-]+)",
    **TOKENS,
    "authorization": r"(?i:authorization|cookie)(?:\\?[\"'])?[ \t]*[:=][ \t]*"
    rf"(?P<hdr_val>{QUOTED}|[^\r\n\"]+)",
    "bearer": r"[Bb]earer[ \t]+(?P<bearer_val>[A-Za-z0-9._~+/=\-]{16,})",
    # The password may hold an unescaped `@` (it runs to the last `@` before the path) or `/`
    # (then to the first `@`: a query string's `a@b` stays out of it).
    "url_password": r"://(?P<url_user>[^/\s:@\"'<>\[\]]*):"
    r"(?:(?P<url_pw>[^\s\"'<>/]+)|(?P<url_pw2>[^\s\"'<>]+?))@(?=[A-Za-z0-9\[])",
    "cli_password": r"(?:-u|--user)[ \t]+(?P<cli_user>[^\s:\"'\[\]]+):(?P<cli_pw>[^\s\"']+)",
    "cli_flag": r"--(?i:(?P<flag_key>password|passwd|token|secret|api-key|access-token|client-secret"
    r"|auth-token))[ \t]+(?P<flag_val>[^\s\-:=][^\s]*)",
    "kv": rf"(?i:(?P<kv_key>{KEYWORDS}))(?:\\?[\"'])?[ \t]*(?P<kv_sep>=>|[:=])[ \t]*"
    rf"(?P<kv_val>{QUOTED}|{BARE})?",
    "xml": r"(?i:(?P<xml_key>password|passwd|secret|token|api_?key))>(?P<xml_val>[^<]{1,4000})</",
}
RULE_RX = {kind: re.compile(p) for kind, p in RULES.items()}
TOKEN_RX = re.compile("|".join(f"(?P<{name}>{pat})" for name, pat in TOKENS.items()))


def _ci(word: str) -> list[tuple[str, str]]:
    """Anchors for a case-insensitive word: (first char, the rest as a case-insensitive regex)."""
    rest = "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word[1:])
    return [(word[0].lower(), rest), (word[0].upper(), rest)]


_KW = ["kv", "xml"]
# Literal starts of the rules: (first char, regex for the rest, rules to try there, in order).
# The scan for anchors is one regular expression whose branches each open with a distinct
# literal character, so the engine skips every other position without entering the branches:
# that is what keeps 10 MB under a second. Within a character, earlier anchors win.
ANCHORS: list[tuple[str, str, list[str]]] = [
    ("s", r"k-", ["anthropic_key", "openai_key"]),
    ("s", r"k_(?:live|test)_", ["stripe_key"]),
    ("s", r"ha256~", ["openshift_token"]),
    ("s", r"hp(?:at|ss|ca|pa)_", ["shopify_token"]),
    ("s", r"ntry[su]_", ["sentry_token"]),
    ("s", r"q0(?:atp|csp)-", ["square_token"]),
    ("r", r"k_(?:live|test)_", ["stripe_key"]),
    ("w", r"hsec_", ["stripe_key"]),
    ("g", r"h[pousr]_|ithub_pat_", ["github_token"]),
    ("g", r"l(?:pat|dt|rt|ptt|ft|cbt|soat)-", ["gitlab_token"]),
    ("g", r"lsa_|lc_", ["grafana_token"]),
    ("g", r"AAAAA", ["fernet_token"]),
    ("x", r"ox[abposre]-|app-", ["slack_token"]),
    ("A", r"Iza", ["google_api_key"]),
    ("A", r"KIA|SIA|BIA|CCA", ["aws_access_key_id"]),
    ("A", r"GE-SECRET-KEY-1", ["age_secret_key"]),
    ("y", r"a29\.", ["google_oauth"]),
    ("G", r"OCSPX-", ["google_oauth"]),
    ("n", r"pm_", ["npm_token"]),
    ("p", r"ypi-AgE", ["pypi_token"]),
    ("p", r"ul-", ["pulumi_token"]),
    ("P", r"MAK-", ["postman_token"]),
    ("P", r"uTTY-User-Key-File-", ["putty_key"]),
    ("S", r"G\.", ["sendgrid_key"]),
    ("h", r"f_", ["huggingface_token"]),
    ("h", r"v[sbr]\.", ["vault_token"]),
    ("h", r"ooks\.slack\.com/", ["slack_webhook"]),
    ("N", r"R(?:AK|AA|II|JS)-", ["newrelic_key"]),
    ("d", r"iscord", ["discord_webhook"]),
    ("d", r"ckr_", ["docker_token"]),
    ("d", r"o[opr]_v1_", ["digitalocean_token"]),
    ("d", r"api[a-f0-9]{8}", ["databricks_token"]),
    ("d", r"p\.", ["doppler_token"]),
    ("e", r"yJ", ["jwt"]),
    ("-", r"---- ?BEGIN |--- BEGIN ", ["private_key"]),
    ("-", r"u[ \t]|-user[ \t]", ["cli_password"]),
    ("-", r"-[A-Za-z]", ["cli_flag"]),
    (":", r"//", ["url_password"]),
    ("k", r"ey-[a-f0-9]{4}", ["mailgun_key", *_KW]),
    *[(c, r, ["bearer"]) for c, r in _ci("bearer")],
    *[(c, r, ["authorization"]) for w in ("authorization", "cookie") for c, r in _ci(w)],
    *[
        (c, r, _KW)
        for w in ("pass", "pwd", "secret", "token", "api_key", "api-key", "apikey", "access", "private",
                  "signing", "account", "master", "encryption", "credential", "sig", "sess", "sid", "key",
                  "auth", "salt")
        for c, r in _ci(w)
    ],
]


def _split_top(rx: str) -> list[str]:
    """A regex's top-level alternatives."""
    out: list[str] = []
    depth, in_class, cur, i = 0, False, "", 0
    while i < len(rx):
        ch = rx[i]
        if ch == "\\":
            cur, i = cur + rx[i : i + 2], i + 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch in "()":
            depth += 1 if ch == "(" else -1
        elif ch == "|" and depth == 0:
            out.append(cur)
            cur, i = "", i + 1
            continue
        cur, i = cur + ch, i + 1
    return [*out, cur]


def _first_atom(rx: str) -> tuple[str, str]:
    """(the regex's first atom if it is one plain character or class, the rest); ("", rx) if not."""
    if rx.startswith("["):
        j = rx.index("]", 1)
        return rx[: j + 1], rx[j + 1 :]
    n = 2 if rx.startswith("\\") else 1
    if not rx or rx[0] in "(.^$" or rx[n : n + 1] in ("?", "*", "+", "{"):
        return "", rx
    return rx[:n], rx[n:]


# Characters in the order the scan tests them: the commonest in logs first, so a position that
# opens no anchor is told so after few comparisons.
_FREQ = "etaoinsrhldcumfpgwybvkxjqzETAOINSRHLDCUMFPGWYBVKXJQZ0123456789 -:/=._\""


def anchor_scan() -> tuple[re.Pattern[str], dict[str, list[str]]]:
    """One regex finding every anchor; a match's `lastgroup` names the rules to try there.

    Each branch opens with a distinct literal character and the rest is a lookahead, grouped by
    its own first character, so the engine compares a position with few literals before moving on.
    """
    by_char: dict[str, dict[str, list[str]]] = {}
    groups: dict[str, list[str]] = {}
    for i, (c, rest, kinds) in enumerate(ANCHORS):
        for j, alt in enumerate(_split_top(rest)):
            name = f"a{i}_{j}"
            groups[name] = kinds
            atom, tail = _first_atom(alt)
            by_char.setdefault(c, {}).setdefault(atom, []).append(f"(?P<{name}>{tail})")
    branches = []
    for c in sorted(by_char, key=lambda ch: _FREQ.find(ch) % 1000):
        parts = [f"{atom}(?:{'|'.join(alts)})" if atom else "|".join(alts) for atom, alts in by_char[c].items()]
        # A scan match is one character long, so an anchor never hides another that starts
        # inside it (`--token=…` holds both `--t` and `token`).
        branches.append(re.escape(c) + "(?=" + "|".join(parts) + ")")
    return re.compile("|".join(branches)), groups


WORDISH = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_PLACEHOLDER = re.compile(
    r"(?i)(?:|null|none|nil|true|false|undefined|empty|string|str|bool|int|\*+|x{3,}|\.{3}|-+"
    r"|\[redacted[^\]]*\]?|<[^<>]*>|\(?redacted\)?|hidden|masked|\$\{?[A-Za-z_][\w.]*\}?|\{\{.*\}\}"
    r"|%\(?[\w.]*\)?s|\{[\w.]*\}|:\w+)"
)
NUMBER = re.compile(r"[+-]?\d{1,3}(?:\.\d+)?")
SCHEME = re.compile(r"(?i)(bearer|basic|token|bot|digest|negotiate|ntlm|apikey|sswss?|aws4-hmac-sha256)\s+")
# Keys whose short numbers are counters and flags (`token=42`, `sig=1`, `pass=3 fail=0`).
NUMERIC_OK = frozenset({"token", "sig", "signature", "pass", "session", "sid", "key", "auth", "salt"})

_KIND_OF_KEY = {
    "password": "password", "passwd": "password", "passphrase": "password", "pwd": "password", "pass": "password",
    "secret": "secret", "credential": "secret", "credentials": "secret", "secretid": "secret",
    "secretaccesskey": "aws_secret_key", "secretkey": "secret_key", "secretkeybase": "secret_key", "token": "token",
    "apikey": "api_key", "accesskey": "access_key", "accesskeyid": "access_key",
    "privatekey": "private_key", "signingkey": "signing_key", "accountkey": "account_key",
    "masterkey": "master_key", "encryptionkey": "encryption_key", "signature": "signature", "sig": "signature",
    "session": "session", "sessionid": "session", "sessid": "session", "sid": "session",
    "key": "key", "auth": "auth", "salt": "salt",
}


def kv_kind(key: str) -> str:
    return _KIND_OF_KEY.get(re.sub(r"[_\-]", "", key.lower()), "secret")


def unquote(v: str) -> tuple[str, str, str]:
    """Split a value into (opening quote, inner, closing quote)."""
    for q in ('\\"', '"', "'"):
        if len(v) >= 2 * len(q) and v.startswith(q) and v.endswith(q):
            return q, v[len(q) : -len(q)], q
    return "", v, ""


def benign(value: str) -> bool:
    """An empty, templated, masked or already redacted value: nothing to hide."""
    v = value.strip()
    return v.startswith("[REDACTED:") or _PLACEHOLDER.fullmatch(v) is not None


def token_kind(value: str) -> str | None:
    m = TOKEN_RX.fullmatch(value)
    return m.lastgroup if m else None


# -- shapes

_WORD = re.compile(r"[A-Z]?[a-z]{3,}")
_WORDY = re.compile(r"[A-Za-z]?[a-z]+(?:[A-Z][a-z]+)*\d{0,4}|\d+|v\d+")
_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_CRED_CHARS = re.compile(r"[A-Za-z0-9+/=_\-.~%:]+")


def mostly_words(s: str, seps: str, share: float = 0.6) -> bool:
    """CamelCase words, a path, a dotted or hyphenated name: not key material. A random part of
    16 characters or more is key material whatever names surround it (`lin_api_…`, `/s/<key>`).
    `share`: the part of `s` in words that makes it a name (random base64 of 24 characters has
    a word share of 0.6 or more once in 150, of 0.7 once in 700)."""
    if sum(len(w) for w in _WORD.findall(s)) >= share * len(s):
        return True
    if any(sep in s for sep in seps):
        parts = [p for p in re.split(f"[{re.escape(seps)}]", s) if p]
        odd = [p for p in parts if _WORDY.fullmatch(p) is None]
        if parts and len(odd) <= 0.4 * len(parts) and max(map(len, odd), default=0) < 16:
            return True
    return False


# An object id with a type prefix (`pi_3MtwBw…`, `cus_NffrFe…`): a reference, not a credential.
# Secret keys with such prefixes (`sk_live_`, `whsec_`) are known formats, matched before shapes.
_TYPED_ID = re.compile(r"[a-z]{2,8}_[A-Za-z0-9]{8,28}")


def looks_random(run: str) -> bool:
    """Is a base64/base64url run (no key name, no prefix) key material rather than a name or id?"""
    s = run.rstrip("=")
    n = len(s)
    if _TYPED_ID.fullmatch(s):
        return False
    upper = sum(map(str.isupper, s))
    lower = sum(map(str.islower, s))
    padded = n < len(run)  # padding is evidence enough of base64 for a short run or one of letters
    if upper < 2 or lower < 2:
        return False
    digits = upper + lower < n - s.count("-") - s.count("_")  # a digit, `+` or `/`
    if not (digits or padded) and (n < 32 or sum(len(w) for w in _WORD.findall(s)) >= 0.4 * n):
        return False  # letters only: random key material of this length nearly always has a digit
    if not padded and mostly_words(s, "/-_", 0.7):
        return False  # (a padded run is base64, whatever words its letters happen to spell)
    counts = Counter(s)
    entropy = -sum(c / n * math.log2(c / n) for c in counts.values())
    # A random string's entropy grows with its length up to log2(64); a third below that is prose.
    return entropy >= min(4.0, 0.8 * math.log2(n))


def decoded_text(run: str) -> str | None:
    """The text a base64/base64url run encodes, if it is text (ordinary data, not key material)."""
    s = run.rstrip("=")
    url = "-" in s or "_" in s
    if url and ("+" in s or "/" in s):
        return None  # two alphabets: not base64 at all
    if len(s) % 4 == 1:
        return None
    s += "=" * (-len(s) % 4)
    try:
        raw = binascii.a2b_base64(s.replace("-", "+").replace("_", "/") if url else s)
    except (binascii.Error, ValueError):
        return None
    if not raw:
        return None
    printable = sum(32 <= b < 127 or b in (9, 10, 13) for b in raw)
    return raw.decode("ascii", "replace") if printable >= 0.9 * len(raw) else None


# `user:password` as Basic auth encodes it: the decoded text of a base64 run.
BASIC_PAIR = re.compile(r"[\w.@+\-]{1,64}:[^\s:/]{4,}")


def credential_shape(value: str, kind: str) -> bool:
    """For a weak key name: is the value shaped like a credential rather than a name, id or word?"""
    v = re.split(r"[?#]", value.strip(), maxsplit=1)[0]  # `;jsessionid=…?x=1`: the query is not the id
    if len(v) < 12 or len(v) > 4096 or _CRED_CHARS.fullmatch(v) is None:
        return False
    letters = sum(c.isalpha() for c in v)
    digits = sum(c.isdigit() for c in v)
    if kind == "session":
        # Session ids are bearer credentials even as UUIDs or lower-case hex.
        return letters > 0 and (digits > 0 or len(v) >= 20)
    if _UUID.fullmatch(v) or ":" in v or "." in v.strip("."):
        return False  # an idempotency key, a cache key (`user:42`), a dotted name
    if letters == 0 or mostly_words(v, "/-_"):
        return False
    if digits:
        return len(v) >= 16 or not (v.islower() or v.isupper())
    if v.islower() or v.isupper():
        return False
    decoded = decoded_text(v)
    # Letters only: random if long; short, only as base64 of `user:password` (Docker's `auth`).
    return len(v) >= 20 if decoded is None else BASIC_PAIR.fullmatch(decoded) is not None


# Weak `…key` names whose value is never a credential: a public key, a lookup or routing key.
PUBLIC_KEY_NAME = re.compile(
    r"(?i)(?:public|pub|websocket|partition|sort|routing|cache|idempotency|primary|foreign|hash|range|row"
    r"|object|dedup(?:lication)?|lookup|join|group|message|event|license[_\-]?plate)[_\-.]?key$"
)
