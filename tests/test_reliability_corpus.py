"""A corpus of broken and hostile inputs through the real CLI.

Every run ends in a named exit code with no traceback. Where the job can go on it does (a
best-effort triage whose notices say what was not read); where it cannot, one clear error.
Devices and FIFOs run as subprocesses with a timeout, so a hang fails the test instead of CI.
"""

from __future__ import annotations

import gzip
import json
import os
import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from tests.reliability_fixtures import Run, assert_clean_failure, run_cli

from incident.errors import EXIT_NOT_FOUND, EXIT_OK, EXIT_USAGE
from incident.scenario import build_example

LOG_CASES = ["empty", "binary", "one 10 MB line", "NUL bytes", "invalid UTF-8", "CRLF", "future", "no timestamps",
             "truncated gzip", "directory", "symlink loop glob"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    ex = build_example(root / "example")
    src = Path(ex.logs[0]).read_bytes()
    lines = src.splitlines()
    c = root / "c"
    c.mkdir()
    rng = random.Random(8)
    files = {
        "empty": b"",
        "binary": rng.randbytes(200_000),
        "one 10 MB line": b"2026-11-21T14:35:00Z ERROR " + b"x" * 10_000_000,
        "NUL bytes": b"\n".join(ln[:30] + b"\x00\x00" + ln[30:] if i % 7 == 0 else ln for i, ln in enumerate(lines)) + b"\n",
        "invalid UTF-8": b"\n".join(ln + b" \xff\xfe\xc3(" if i % 5 == 0 else ln for i, ln in enumerate(lines)) + b"\n",
        "CRLF": b"\r\n".join(lines) + b"\r\n",
        "future": src.replace(b"2026-11-21", b"2026-11-23"),
        "no timestamps": b"\n".join(ln[25:] for ln in lines) + b"\n",
    }
    paths = {}
    for i, (name, data) in enumerate(files.items()):
        paths[name] = c / f"case{i}.log"
        paths[name].write_bytes(data)
    paths["truncated gzip"] = c / "app.log.2.gz"
    paths["truncated gzip"].write_bytes(gzip.compress(src)[:5000])
    (c / "dir").mkdir()
    (c / "dir" / "app.log").write_bytes(src)
    paths["directory"] = c / "dir"
    loop = c / "loop"
    loop.mkdir()
    os.symlink("self", loop / "self")
    os.symlink("b", loop / "a")
    os.symlink("a", loop / "b")
    os.symlink(".", loop / "dot")
    (loop / "real.log").write_bytes(src)
    paths["symlink loop glob"] = Path(f"{loop}/*")
    os.mkfifo(c / "fifo.log")
    (c / "repo-file").write_text("not a repository\n")
    return {"root": root, "ex": ex, "paths": paths, "c": c, "now": ex.now.isoformat()}


def _triage(corpus, *extra: str, timeout: float = 60, cli=None) -> Run:
    args = ["triage", "--non-interactive", "--json", "--engine", "offline", "--incidents-dir", str(corpus["root"] / "inc"),
            "--service", "checkout", "--symptom", "checkout 500s", "--now", corpus["now"], *extra]
    return inproc(cli, args) if cli else run_cli(args, cwd=corpus["root"], timeout=timeout)


def inproc(cli, args: list[str]) -> Run:
    """In-process (fast) for inputs that cannot hang; an exception escaping fails the test."""
    code, out, err = cli(*args)
    return Run(code, out, err, 0.0)


@pytest.mark.parametrize("case", LOG_CASES)
def test_log_commands_take_every_corpus_file(cli, corpus, case):
    path = str(corpus["paths"][case])
    now = ["--now", corpus["now"]]
    for args in (["logs", "timeline", path, "--json"], ["logs", "patterns", path, "--json"],
                 ["logs", "search", "ERROR|Traceback", path, "-C", "2", "--json"], ["logs", "timeline", path]):
        run = inproc(cli, [*args, *now])
        if case == "binary":
            # Refused, like a device: there is no log to read in it.
            assert_clean_failure(run, allowed={EXIT_NOT_FOUND})
            assert "binary file, not a log" in run.out + run.err
            continue
        assert_clean_failure(run, allowed={EXIT_OK})
        if "--json" in args:
            json.loads(run.out)
    if case == "no timestamps":
        run = inproc(cli, ["logs", "timeline", path, *now])
        assert "without a time" in run.out


@pytest.mark.parametrize("case", ["binary", "NUL bytes", "invalid UTF-8", "CRLF", "future", "no timestamps", "empty",
                                  "one 10 MB line", "symlink loop glob", "directory"])
def test_triage_is_best_effort_on_every_corpus_file(cli, corpus, case):
    ex = corpus["ex"]
    run = _triage(corpus, "--logs", str(corpus["paths"][case]), "--repo", str(ex.repo), "--deploys", str(ex.deploys), cli=cli)
    assert_clean_failure(run, allowed={EXIT_OK})
    doc = json.loads(run.out)
    assert len(doc["phases"]) >= 5
    now = datetime.fromisoformat(corpus["now"])
    if doc["onset"]:
        assert datetime.fromisoformat(doc["onset"].replace("Z", "+00:00")) <= now + timedelta(minutes=1)
    if case in ("NUL bytes", "invalid UTF-8", "CRLF", "directory", "symlink loop glob"):
        # The damage is cosmetic: the same suspect and rollback target as the clean example.
        assert doc["suspect_change"]["id"] == "6" and doc["rollback_target"]["id"] == "4", doc["suspect_change"]


@pytest.mark.parametrize("special", ["fifo", "/dev/zero"])
def test_devices_and_fifos_are_refused_not_read(corpus, special):
    path = str(corpus["c"] / "fifo.log") if special == "fifo" else "/dev/zero"
    for args in (["logs", "timeline", path], ["logs", "patterns", path], ["logs", "search", "x", path], ["deploys", path]):
        run = run_cli([*args, "--now", corpus["now"]], cwd=corpus["root"], timeout=20)
        assert_clean_failure(run, allowed={EXIT_USAGE, EXIT_NOT_FOUND})
        assert "not a regular file" in run.err, run.err
    run = _triage(corpus, "--logs", path, "--logs", str(corpus["paths"]["CRLF"]), timeout=30)
    assert_clean_failure(run, allowed={EXIT_OK})
    assert any("not read" in n and "not a regular file" in n for n in json.loads(run.out)["notices"])


def test_a_repo_path_that_is_a_file(cli, corpus):
    repo_file = str(corpus["c"] / "repo-file")
    run = inproc(cli, ["changes", "--repo", repo_file, "--now", corpus["now"]])
    assert_clean_failure(run, allowed={EXIT_USAGE})
    assert "repo-file" in run.err and "not a directory" in run.err
    run = _triage(corpus, "--repo", repo_file, "--logs", str(corpus["paths"]["CRLF"]), cli=cli)
    assert_clean_failure(run, allowed={EXIT_OK})
    assert any("repo-file" in n and "not a git repository" in n for n in json.loads(run.out)["notices"])


@pytest.mark.parametrize("content", [b"", b"\x00\x01binary\xff" * 100, b'[{"revision": 1,', b"id,at\n1,yesterday-ish\n",
                                     b"- just\n- yaml\n", b'{"status": {"history": "nope"}}'])
def test_broken_deploy_histories(cli, corpus, tmp_path, content):
    path = tmp_path / "deploys.json"
    path.write_bytes(content)
    run = inproc(cli, ["deploys", str(path), "--json", "--now", corpus["now"]])
    assert_clean_failure(run, allowed={EXIT_OK, EXIT_USAGE})
    if run.code == EXIT_USAGE:
        assert str(path) in json.loads(run.out)["error"]["message"]
    run = _triage(corpus, "--deploys", str(path), "--logs", str(corpus["paths"]["CRLF"]), cli=cli)
    assert_clean_failure(run, allowed={EXIT_OK})
    if content.strip():  # an unreadable history is said, not silently dropped
        assert any(str(path) in n for n in json.loads(run.out)["notices"]), json.loads(run.out)["notices"]


def test_bad_flags_are_usage_errors(cli, corpus):
    for args in (["triage", "--non-interactive", "--logs", "x", "--started", "99999999999d"],
                 ["triage", "--non-interactive", "--logs", "x", "--now", "yesterday"],
                 ["logs", "timeline", str(corpus["paths"]["CRLF"]), "--since", "25:99"],
                 ["note", "../../etc", "x"], ["show", "", "--json"]):
        run = inproc(cli, [*args, "--incidents-dir", str(corpus["root"] / "inc")] if args[0] in ("note", "show") else args)
        assert_clean_failure(run, allowed={EXIT_USAGE, EXIT_NOT_FOUND})


@pytest.mark.slow
def test_a_million_row_deploy_log(corpus, tmp_path):
    t0 = datetime(2026, 1, 1)
    path = tmp_path / "deploys.jsonl"
    with path.open("w") as f:
        for i in range(1_000_000):
            f.write(json.dumps({"id": str(i), "service": "checkout", "at": (t0 + timedelta(seconds=25 * i)).isoformat() + "Z",
                                "status": "succeeded" if i % 13 else "failed", "version": f"1.{i}"}) + "\n")
    run = run_cli(["deploys", str(path), "--json", "-n", "20", "--now", corpus["now"]], cwd=corpus["root"], timeout=120)
    assert_clean_failure(run, allowed={EXIT_OK})
    doc = json.loads(run.out)
    assert len(doc["deploys"]) == 20
    run = _triage(corpus, "--deploys", str(path), "--logs", str(corpus["paths"]["CRLF"]), timeout=120)
    assert_clean_failure(run, allowed={EXIT_OK})
    print(f"\n1M-row deploy log: deploys --json {run.seconds:.1f}s")
