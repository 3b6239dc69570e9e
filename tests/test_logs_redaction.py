"""Key material logged one line per record never leaves a log tool, not even in pieces.

The pattern miner used to split a base64 line at `/` into tokens shorter than the redactor
recognises; 8-character fragments then reached the model. Every log tool's text is checked here
for any 8-character piece of the seeded key lines.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

from incident.tools.base import Roots, Toolbox, ToolContext
from incident.tools.logtools import TOOLS
from incident.tools.patterns import mask
from redaction_corpus import B64, URLSAFE, pem_body, rnd

NOW = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)


def _grams(text: str, n: int = 8) -> set[str]:
    return {text[i : i + n] for i in range(len(text) - n + 1)}


def _leaked(text: str, secrets: list[str]) -> list[str]:
    grams = _grams(text)
    return [s for s in secrets if any(s[i : i + 8] in grams for i in range(len(s) - 7))]


def _seeded_log(tmp_path: Path, seed: int) -> tuple[Path, list[str], list[str]]:
    """A service log with PEM bodies logged one line per record among ordinary lines. Returns
    (path, the 64-character key lines, the short padded or base64url key lines)."""
    rng = random.Random(seed)
    long_lines: list[str] = []
    short_lines: list[str] = []
    out: list[str] = []
    for k in range(12):
        body = pem_body(rng, 6)
        long_lines += body[:-1]
        short_lines.append(body[-1])
        token = rnd(rng, URLSAFE, 43)
        short_lines.append(token)
        for j, part in enumerate([*body, token]):
            out.append(f"2026-11-21T14:{20 + k:02d}:{j:02d}Z ERROR checkout {part}")
            out.append(f"2026-11-21T14:{20 + k:02d}:{j:02d}Z INFO checkout request id={rng.randint(1, 10**6)} ok")
    path = tmp_path / "logs" / "app.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out) + "\n")
    return path, long_lines, short_lines


CALLS = [
    ("log_patterns", {"since": "2h", "level": "any", "limit": 100}),
    ("log_patterns", {"since": "2h", "level": "error", "limit": 100, "new_since": "14:25"}),
    ("log_patterns", {"since": "2h", "level": "warn", "limit": 100}),
    ("search_logs", {"pattern": "ERROR", "max_hits": 200, "context": 3}),
    ("search_logs", {"pattern": "checkout", "since": "2h", "max_hits": 200, "context": 5}),
    ("error_timeline", {"since": "2h"}),
]


def test_no_piece_of_key_material_leaves_any_log_tool(tmp_path: Path) -> None:
    for seed in range(6):
        path, long_lines, short_lines = _seeded_log(tmp_path / str(seed), seed)
        ctx = ToolContext(roots=Roots.of(tmp_path), log_paths=[str(path)], service="checkout", clock=lambda: NOW)
        box = Toolbox(ctx, TOOLS)
        for name, args in CALLS:
            res = box.run(name, args)
            assert res.status == "ok", (name, res.text)
            assert _leaked(res.text, long_lines) == [], (seed, name)
            # The short padded last lines and base64url keys too: the redactor catches them, so
            # search_logs (which shows lines as they are) is as safe as the masked templates.
            assert _leaked(res.text, short_lines) == [], (seed, name)
            if name == "log_patterns":
                shown = "\n".join(f"{p.template}\n{p.sample}" for p in res.data)
                assert _leaked(shown, long_lines) == [], (seed, name)
        search = box.run("search_logs", {"pattern": "ERROR", "max_hits": 200})
        assert "[REDACTED:" in search.text and search.redactions >= len(long_lines)
        assert all(h.text.count("[REDACTED:") <= 1 for h in search.data.hits)


def test_key_like_tokens_are_masked_whole_and_words_paths_and_ids_are_not_overmasked() -> None:
    rng = random.Random(5)
    key = rnd(rng, B64, 40)
    assert mask(f"loaded {key}/{key[:9]}== done".encode()) == b"loaded <*> done"
    assert mask(b"cert z3gb9pvMEc0goRqG9hTC== ok") == b"cert <*> ok"
    assert mask(b"tok zppvEJqa-ZgIFI2g8Pahqfpgi9el-OuOjSXXMUHyQ2p end") == b"tok <*> end"
    assert mask(b"session=Ab3dEf5hIj7lMn9pQr1tUv x") == b"session=<*> x"
    # Words, CamelCase names and lower-case identifiers stay readable.
    for kept in (b"java.lang.IllegalStateException: gateway timeout", b"AbstractAutowireCapableBeanFactory failed",
                 b"ERR_CONNECTION_REFUSED while calling upstream", b"user not found"):
        assert mask(kept) == kept
