"""Private key blocks line by line: the body of a key whose armour lines are not both in view.

A key reaches a log whole (the rule in `redact_rules` takes BEGIN through END), or one line per
record under a timestamp, in Docker json-file records, inside a JSON string with escaped
newlines, or seen through a window that starts or ends inside the block. Its body lines are then
the base64 runs aligned under the armour line: at the same column, the same whitespace-separated
field (timestamps of ragged width), or the start of the line. Just above END, a run of any length
is the body's last line; elsewhere a run must look like key material on its own.
"""

from __future__ import annotations

import re
from collections import Counter

from incident import redact_rules as rules

BLOCK_REACH = 20_000  # characters searched for a private key's END line
_MAX_BODY_LINES = 400

_SEP = r"(?:[ \t\r\n]|\\+[nr])"
# What follows BEGIN on its own line or the next ones when nothing else is there (a block whose
# newlines became spaces or `\n` escapes, or one cut short by a size cap).
KEY_TAIL = re.compile(rf"(?:{_SEP}*[A-Za-z0-9+/=]{{16,}})*(?:{_SEP}*[A-Za-z0-9+/]{{1,15}}={{0,2}}(?=[\"'\\]|\s*$))?")
_NL = re.compile(r"\r?\n|(?:\\+r)?\\+n")
_BODY_TOK = re.compile(
    r"[ \t]*(?:\\?[\"'])?(?P<tok>=?[A-Za-z0-9+/]+={0,2}|\[REDACTED:(?:private_key|high_entropy)\])"
    r"(?=[\s\"'\\,;}\]]|$)"
)
_ARMOUR = re.compile(r"[ \t]*(?:\\?[\"'])?(?:Proc-Type|DEK-Info|Version|Comment|Hash|Charset):|[ \t]*$")
_FIELD = re.compile(r"\S+")
_LINE_REST = re.compile(r"[ \t]*(?:[\"'\\]|$)")


def _line_start(text: str, pos: int) -> int:
    a = text.rfind("\n", 0, pos) + 1
    b = text.rfind("\\n", a, pos)
    return b + 2 if b >= 0 else a


def _next_line(text: str, pos: int) -> tuple[int, int] | None:
    m = _NL.search(text, pos)
    if m is None:
        return None
    nxt = _NL.search(text, m.end())
    return m.end(), nxt.start() if nxt else len(text)


def _prev_line(text: str, start: int) -> tuple[int, int] | None:
    if start >= 2 and text[start - 1] == "n" and text[start - 2] == "\\":
        end = start - 2
        while end and text[end - 1] == "\\":
            end -= 1
        if text.endswith("r", 0, end) and end >= 2 and text[end - 2] == "\\":
            end -= 2
    elif start and text[start - 1] == "\n":
        end = start - 1 - (start >= 2 and text[start - 2] == "\r")
    else:
        return None
    return _line_start(text, end), end


def _aligned(text: str, s: int, e: int, col: int, field: int) -> tuple[int, int, int] | None:
    """The strongest base64 run (or marker) in line [s, e) at the reference column, the reference
    field (timestamps of ragged width) or the line start: (start, end, strength)."""
    fields = [f.start() for f in _FIELD.finditer(text, s, e)]
    best = None
    for at in (s + col, fields[field] if field < len(fields) else -1, s):
        m = _BODY_TOK.match(text, at, e) if s <= at < e else None
        if m is not None:
            strength = _strength(m.group("tok"))
            if strength == 1 and _LINE_REST.match(text, m.end(), e) is None:
                strength = 0  # a last line holds nothing after its run (`step 3: done` is prose)
            hit = (m.start("tok"), m.end("tok"), strength)
            if best is None or hit[2] > best[2]:
                best = hit
    return best


def _strength(tok: str) -> int:
    """2: key material on its own; 1: only as the last line before END; 0: not a body line."""
    if tok.startswith("[REDACTED:"):
        return 2
    core = tok.strip("=")
    mixed = not (core.isalpha() and (core.islower() or core.isupper()))
    if mixed and (len(core) >= 16 and not rules.mostly_words(core, "/") or tok.endswith("=") and len(core) >= 4):
        return 2
    # Any run aligned just above END is the body's last line (or a PGP checksum, `=AbCd`).
    return 1 if len(core) >= 2 else 0


def body_lines(text: str, ref: int, pos: int, *, forward: bool, floor: int = 0) -> list[tuple[int, int]]:
    """Spans of raw body runs next to an armour line at `ref`: after `pos` (forward) or before,
    not above `floor` (where the previous END walk began: no line is walked twice)."""
    ls = _line_start(text, ref)
    col, field = ref - ls, len(text[ls:ref].split())
    spans: list[tuple[int, int]] = []
    line = _next_line(text, pos) if forward else _prev_line(text, ls)
    seen = 0
    for i in range(_MAX_BODY_LINES):
        if line is None or line[0] < floor:
            break
        s, e = line
        hit = _aligned(text, s, e, col, field)
        strength = hit[2] if hit else 0
        if s >= 2 and text[s - 2 : s] == "\\n" and text[s : s + 1] in ("\"", "'"):
            pass  # the rest of a JSON record after an escaped newline (`\n","stream":…`)
        elif hit is not None and (strength == 2 or (strength == 1 and not forward and seen == 0)):
            seen += 1
            if not text.startswith("[REDACTED:", hit[0]):
                spans.append((hit[0], hit[1]))
        elif not (forward and seen == 0 and i < 6 and _ARMOUR.match(text, s + min(col, e - s), e)):
            break
        line = _next_line(text, e) if forward else _prev_line(text, s)
    return sorted(spans)


def orphan_key_ends(text: str, counts: Counter[str]) -> str:
    """Body lines before an END line whose BEGIN is not in the text (already replaced or cut off)."""
    if "PRIVATE KEY" not in text:
        return text
    spans: list[tuple[int, int]] = []
    floor = 0
    for end in rules.KEY_END.finditer(text):
        found = body_lines(text, end.start(), end.start(), forward=False, floor=floor)
        ls = _line_start(text, end.start())
        floor = end.end()
        # Runs before END on its own line: a block whose newlines became spaces.
        before = text[ls : end.start()].rstrip()
        pieces = before.split()
        # The last piece may be a short last line only if a full one precedes it (not `up to END`).
        strongest = 1 if len(pieces) > 1 and _strength(pieces[-2].strip("\"'")) == 2 else 2
        while pieces and _strength(pieces[-1].strip("\"'")) >= strongest:
            tok = pieces.pop().strip("\"'")
            at = text.rindex(tok, ls, ls + len(before))
            before = text[ls:at].rstrip()
            if not tok.startswith("[REDACTED:"):
                found.append((at, at + len(tok)))
            strongest = 2
        if found:
            counts["private_key"] += 1
            spans += found
    if not spans:
        return text
    out, pos = [], 0
    for s, e in sorted(set(spans)):
        if s >= pos:
            out += [text[pos:s], rules.mark("private_key")]
            pos = e
    return "".join(out) + text[pos:]
