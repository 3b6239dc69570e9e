"""Private keys in every layout a log gives them: no piece of a body line survives, whatever the
framing, the window, or whether a tool redacted the lines one at a time before joining them."""

from __future__ import annotations

import random

from incident.redact import redact, redact_counts
from redaction_keyblocks import armour, body, layouts


def _leaks(secret: str, out: str) -> bool:
    w = min(8, len(secret))
    return any(secret[i : i + w] in out for i in range(len(secret) - w + 1))


def test_every_layout_leaves_no_piece_of_the_body_and_is_counted_once():
    cases = list(layouts())
    assert len(cases) > 400
    leaked, uncounted = [], []
    for name, text, lines in cases:
        out, counts = redact_counts(text)
        leaked += [(name, line) for line in lines if _leaks(line, out)]
        if counts.get("private_key") != 1:
            uncounted.append((name, counts))
    assert leaked == []
    assert uncounted == []


def test_lines_redacted_one_at_a_time_then_joined_are_caught_at_the_choke_point():
    # search_logs redacts each hit alone: BEGIN's line and the long body lines are caught there,
    # the short last line is not. The request body joins them, and END sits under that line.
    leaked = []
    for name, text, lines in layouts(seed=9):
        joined = "\n".join(redact(line)[0] for line in text.split("\n"))
        out, _ = redact(joined)
        leaked += [(name, line) for line in lines if _leaks(line, out)]
    assert leaked == []


def test_redaction_of_every_layout_is_idempotent():
    for _, text, _ in layouts(seed=3):
        once, _ = redact(text)
        assert redact(once) == (once, 0)


def test_log_lines_around_a_block_survive():
    rng = random.Random(1)
    lines = body(rng, 500)
    before = ["2026-11-21T14:32:59Z INFO checkout served /api/cart in 12ms", "2026-11-21T14:33:00Z WARN checkout Retrying"]
    after = ["2026-11-21T14:33:30Z INFO checkout done", "2026-11-21T14:33:31Z ERROR checkout upstream 503"]
    block = [f"2026-11-21T14:33:{i:02d}Z ERROR checkout {x}" for i, x in enumerate(lines[3:])]
    end = "2026-11-21T14:33:29Z ERROR checkout " + armour("RSA PRIVATE KEY", "END")
    out, n = redact("\n".join([*before, *block, end, *after]))
    assert n == 1
    assert out.split("\n")[:2] == before and out.split("\n")[-2:] == after and out.split("\n")[-3] == end
    # Cut off after BEGIN: the aligned body lines go, the next ordinary record stays.
    begin = "2026-11-21T14:33:00Z ERROR checkout " + armour("PRIVATE KEY", "BEGIN")
    out, n = redact("\n".join([begin, *block[:4], *after]))
    assert n == 1 and out.split("\n")[-2:] == after and not any(_leaks(x, out) for x in lines[3:7])


def test_an_end_line_alone_or_in_prose_changes_nothing():
    for text in (armour("RSA PRIVATE KEY", "END"), "docs: paste everything up to " + armour("PRIVATE KEY", "END"),
                 "step 3: done\n" + armour("EC PRIVATE KEY", "END") + "\nstep 4"):
        assert redact(text) == (text, 0)
