"""Private keys as logs really carry them, for the redactor's corpus.

A key is generated as its format has it (random DER bytes, base64, 64-character lines, a last
line of whatever length the byte count gives) and then laid out the ways a key reaches a log:
whole, one line per record under a timestamp, in Docker's json-file records, inside a JSON string
with escaped newlines, with newlines flattened to spaces, cut short by a size cap, or seen through
a window that starts or ends inside the block. `layouts()` yields (name, text, body lines); no
piece of a body line may survive redaction.
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Iterator

DASHES = "-" * 5
LABELS = ("RSA PRIVATE KEY", "PRIVATE KEY", "OPENSSH PRIVATE KEY", "EC PRIVATE KEY", "ENCRYPTED PRIVATE KEY",
          "DSA PRIVATE KEY")


def body(rng: random.Random, nbytes: int) -> list[str]:
    b64 = base64.b64encode(rng.randbytes(nbytes)).decode()
    return [b64[i : i + 64] for i in range(0, len(b64), 64)]


def armour(label: str, word: str) -> str:
    return f"{DASHES}{word} {label}{DASHES}"


def _stamp(i: int) -> str:
    return f"2026-11-21T14:33:{i % 60:02d}.{(i * 7919) % 1000:03d}Z"


def _noise(rng: random.Random, i: int) -> str:
    return f"{_stamp(i)} INFO checkout request_id={rng.getrandbits(64):016x} served /api/v1/cart in 12ms"


def _per_record(prefix: str, lines: list[str]) -> str:
    return "\n".join(prefix.format(i=i, ts=_stamp(i)) + line for i, line in enumerate(lines))


def layouts(seed: int = 5) -> Iterator[tuple[str, str, list[str]]]:
    rng = random.Random(seed)
    for label in LABELS:
        # Byte counts chosen so the last line runs from 4 characters (`Xw==`) to a full 64.
        for nbytes in (rng.randint(600, 1300), *(48 * rng.randint(10, 20) + r for r in (1, 3, 24, 47))):
            lines = body(rng, nbytes)
            begin, end = armour(label, "BEGIN"), armour(label, "END")
            whole = [begin, *lines, end]
            yield "whole", "loaded key:\n" + "\n".join(whole) + "\ndone", lines
            yield "per record", _per_record("{ts} ERROR checkout ", whole) + "\n" + _noise(rng, 99), lines
            # A window that ends inside the block: the lines in view are full ones.
            cut = rng.randint(2, len(lines) - 1)
            yield "per record, no END", _per_record("{ts} ERROR checkout ", [begin, *lines[:cut]]), lines[:cut]
            # A window that starts inside the block: the last, short line sits just above END.
            start = rng.randint(1, len(lines) - 2)
            head = "\n".join(_noise(rng, i) for i in range(3))
            tail = _per_record("{ts} ERROR checkout ", [*lines[start:], end])
            yield "per record, no BEGIN", f"{head}\n{tail}\n{_noise(rng, 50)}", lines[start:]
            docker = [json.dumps({"log": line + "\n", "stream": "stderr", "time": _stamp(i)}) for i, line in enumerate(whole)]
            yield "docker json-file", "\n".join(docker), lines
            yield "docker json-file, no BEGIN", "\n".join(docker[start + 1 :]), lines[start:]
            yield "cri, ragged stamps", "\n".join(
                f"2026-11-21T14:33:01.{rng.randint(1, 10**9 - 1)}Z stderr F {line}" for line in whole[start:]
            ), lines[start - 1 :]
            yield "json string", json.dumps({"private_key": "\n".join(whole) + "\n", "type": "service_account"}), lines
            yield "json string, cut", json.dumps({"key": "\n".join(whole[:cut])})[:-3], lines[: cut - 1]
            yield "json in json", json.dumps({"msg": json.dumps({"pem": "\n".join(whole[:cut])})}), lines[: cut - 1]
            yield "flattened", "key: " + " ".join(whole) + " ok", lines
            yield "flattened, no BEGIN", "... " + " ".join([*lines[start:], end]), lines[start:]
            yield "yaml block", "tls:\n  key.pem: |\n" + "\n".join("    " + x for x in whole) + "\n  ca: x", lines
            # A tool that shows hits as `path:line [time] text` and redacts each line alone.
            numbered = [f"app.log:{95 + i} [{_stamp(i)}] {_stamp(i)} ERROR checkout {x}" for i, x in enumerate(whole)]
            yield "numbered hits", "\n".join(numbered), lines
    rng2 = random.Random(seed + 1)
    lines = body(rng2, 700)
    ssh2 = ["---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----", 'Comment: "rsa-key-20261121"', *lines,
            "---- END SSH2 ENCRYPTED PRIVATE KEY ----"]
    yield "ssh2", "\n".join(ssh2), lines
    pgp_lines = body(rng2, 900)
    crc = base64.b64encode(rng2.randbytes(3)).decode()
    pgp = [armour("PGP PRIVATE KEY BLOCK", "BEGIN"), "Version: GnuPG v2", "", *pgp_lines, "=" + crc,
           armour("PGP PRIVATE KEY BLOCK", "END")]
    yield "pgp", "\n".join(pgp), [*pgp_lines, "=" + crc]
    yield "pgp, no END", _per_record("{ts} gpg: ", pgp[:9]), pgp_lines[:6]
    pub, priv = body(rng2, 270), body(rng2, 660)
    mac = f"{rng2.getrandbits(160):040x}"
    putty = ["PuTTY-User-Key-File-3: ssh-rsa", "Encryption: none", "Comment: deploy", f"Public-Lines: {len(pub)}", *pub,
             f"Private-Lines: {len(priv)}", *priv, f"Private-MAC: {mac}"]
    yield "putty", "\n".join(putty), priv
    yield "putty, cut", "\n".join(putty[: -3]), priv[:-2]
