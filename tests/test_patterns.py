from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from incident.tools.patterns import Miner, mask, mine_patterns
from logs_fixtures import NOW, ONSET, T0, incident_lines, iso, log4j, write


def test_masking_covers_numbers_ids_ips_paths_quotes() -> None:
    line = b'user 42 from 10.1.2.3:5050 req 3f2a9c1e-1b2c-4d5e-8f90-123456789abc file /var/lib/x.db hex 0xdeadbeef said "hi there" blk_-1234'
    assert mask(line) == b"user <*> from <*> req <*> file <*> hex <*> said <*> <*>"


def test_merge_groups_variable_words_like_drain() -> None:
    m = Miner()
    for name in ("admin", "oracle", "test", "guest"):
        m.add(f"Invalid user {name} from 10.0.0.1".encode())
    m.add(b"Connection closed by 10.0.0.1")
    names, owner = m.merge()
    assert "Invalid user <*> from <*>" in names
    assert len(set(owner)) == 2


def test_patterns_new_since_onset_and_counts(tmp_path: Path) -> None:
    p = write(tmp_path / "app.log", incident_lines(log4j))
    pats = mine_patterns([p], since=T0, until=None, now=NOW, new_since=ONSET)
    by = {x.template: x for x in pats}
    pay = next(x for t, x in by.items() if "payment failed" in t)
    assert pay.new and pay.count_before == 0 and pay.count == 30 * 60 // 2
    assert pay.first_seen == ONSET and pay.level == "error"
    assert "IllegalStateException" not in pay.template  # the trace belongs to its record
    cache = next(x for t, x in by.items() if "cache miss" in t)
    assert not cache.new and cache.count_before > 0
    assert pats[0].count >= pats[-1].count


def test_level_filter_and_window(tmp_path: Path) -> None:
    p = write(tmp_path / "app.log", incident_lines(log4j))
    anyl = mine_patterns([p], since=NOW - timedelta(minutes=10), until=None, now=NOW, level="any")
    assert any("request ok" in x.template for x in anyl)
    errs = mine_patterns([p], since=NOW - timedelta(minutes=10), until=None, now=NOW, level="error")
    assert not any("request ok" in x.template for x in errs)
    assert all(x.first_seen is not None and x.first_seen >= NOW - timedelta(minutes=10) for x in errs)


def test_lines_without_timestamps_count_with_null_times(tmp_path: Path) -> None:
    p = write(tmp_path / "plain.log", ["ERROR disk 1 full", "ERROR disk 2 full", "ok"])
    pats = mine_patterns([p], since=None, until=None, now=NOW, level="error")
    assert [(x.template, x.count, x.first_seen) for x in pats] == [("disk <*> full", 2, None)]


def test_json_and_docker_messages(tmp_path: Path) -> None:
    lines = [json.dumps({"time": iso(ONSET), "level": "error", "msg": f"db timeout after {i}ms"}) for i in range(5)]
    lines += [json.dumps({"log": f"2026-11-21 14:10:00,000 ERROR [main] Pay - refused {i}\n", "stream": "stderr", "time": iso(ONSET)}) for i in range(3)]
    p = write(tmp_path / "j.log", lines)
    pats = mine_patterns([p], since=None, until=None, now=NOW)
    assert {(x.template, x.count) for x in pats} == {("db timeout after <*>", 5), ("[main] Pay - refused <*>", 3)}


def test_uncaught_tracebacks_are_told_apart_by_what_they_raised(tmp_path: Path) -> None:

    def tb(at: str, exc: str, last: bool = True) -> list[str]:
        return [f"{at} INFO [app] retry", "Traceback (most recent call last):", '  File "/app/y.py", line 9, in run',
                "    conn()", *([exc] if last else [])]

    plain = [*tb("2026-11-21T14:01:00Z", "ConnectionError: refused by db-1"), *tb("2026-11-21T14:02:00Z", "ConnectionError: refused by db-2"),
             *tb("2026-11-21T14:03:00Z", "ValueError: bad value 42"), *tb("2026-11-21T14:04:00Z", "", last=False)]
    cri = [f"2026-11-21T14:0{1 + i // 5}:{i % 60:02d}.000000000Z stderr F {line}" for i, line in enumerate(plain)]
    now = datetime(2026, 11, 21, 14, 10, tzinfo=UTC)
    for name, lines in (("plain.log", plain), ("cri.log", cri)):
        log = tmp_path / name
        log.write_text("\n".join(lines) + "\n")
        got = {p.template: p.count for p in mine_patterns([log], since=None, until=None, now=now)}
        assert got["Traceback: ConnectionError: refused by <*>"] == 2, (name, got)
        assert got["Traceback: ValueError: bad value <*>"] == 1, (name, got)
        # One cut short before its last line keeps the line every traceback shares.
        assert sum(n for t, n in got.items() if "Traceback (most recent call last)" in t) == 1, (name, got)
