"""Two processes on one incident: notes from both survive; a second triage is refused with who
holds it (pid, host, since) and exit 4; `--take-over` and a dead holder's lock both work."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

from tests.reliability_fixtures import cli_env, incident_folders, read_back, run_cli

from incident import journal as j
from incident.errors import EXIT_CONFLICT, EXIT_OK
from incident.scenario import build_example


def _json_stream(text: str) -> list[dict]:
    dec, docs, i = json.JSONDecoder(), [], 0
    while (i := len(text) - len(text[i:].lstrip())) < len(text):
        doc, i = dec.raw_decode(text, i)
        docs.append(doc)
    return docs


def test_notes_from_two_processes_at_once_all_survive(tmp_path):
    inc = tmp_path / "inc"
    made = run_cli(["new", "checkout 500s", "--service", "checkout", "--json", "--incidents-dir", str(inc)], cwd=tmp_path)
    assert made.code == EXIT_OK, made.err
    iid = json.loads(made.out)["incident_id"]
    # Each writer is a shell loop of real CLI processes, so the two streams interleave freely.
    n = 5
    script = "for i in $(seq 1 {n}); do {py} -m incident note {iid} \"{tag} $i\" --json --incidents-dir {inc} || exit 1; done"
    writers = [
        subprocess.Popen(["sh", "-c", script.format(n=n, py=sys.executable, iid=iid, tag=tag, inc=inc)], cwd=tmp_path,
                         env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for tag in ("alice", "bob")
    ]
    outs = [w.communicate(timeout=120) for w in writers]
    assert all(w.returncode == 0 for w in writers), [o[1][-500:] for o in outs]
    reported = [doc for o in outs for doc in _json_stream(o[0].decode())]
    assert len(reported) == 2 * n
    notes = [e for e in read_back(inc / iid).events if e.type == j.NOTE_ADDED]
    texts = sorted(e.payload["text"] for e in notes)
    assert texts == sorted([f"{t} {i}" for t in ("alice", "bob") for i in range(1, n + 1)])
    assert {r["at"] for r in reported} <= {j.iso(e.at) for e in notes}


def test_a_second_triage_is_refused_while_the_first_runs_then_takes_over(tmp_path):
    ex = build_example(tmp_path / "example")
    inc = tmp_path / "inc"
    base = ["--incidents-dir", str(inc), "--now", ex.now.isoformat()]
    first = run_cli(["triage", "--non-interactive", "--json", "--engine", "offline", "--service", ex.service,
                     "--symptom", ex.symptom, "--repo", str(ex.repo), "--deploys", str(ex.deploys),
                     "--deploys-format", ex.deploys_format, "--logs", ex.logs[0], *base], cwd=tmp_path)
    assert first.code == EXIT_OK, first.err
    (folder,) = incident_folders(inc)
    # A live holder: a resume started in another process whose lock we keep by stopping it
    # (SIGSTOP) right after it has taken the lock.
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pathlib import Path; from incident.locks import TriageLock\n"
        f"with TriageLock(Path({str(folder)!r})):\n    print('held', flush=True); time.sleep(60)\n")],
        stdout=subprocess.PIPE, env=cli_env())
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"
        second = run_cli(["triage", "--resume", folder.name, *base], cwd=tmp_path)
        assert second.code == EXIT_CONFLICT
        err = " ".join(second.err.split())
        assert "already in progress" in err and f"pid {holder.pid}" in err and socket.gethostname() in err and "since" in err
        assert "--take-over" in err and "Traceback" not in err
        as_json = run_cli(["triage", "--resume", folder.name, "--json", *base], cwd=tmp_path)
        assert as_json.code == EXIT_CONFLICT and json.loads(as_json.out)["error"]["code"] == "conflict"
        taken = run_cli(["triage", "--resume", folder.name, "--take-over", "--json", *base], cwd=tmp_path)
        assert taken.code == EXIT_OK, taken.err
    finally:
        holder.kill()
        holder.wait()
    # The holder is gone now: its lock (if it is still there) is stale and taken over silently.
    (folder / "triage.lock").write_text(json.dumps({"pid": holder.pid, "host": socket.gethostname(), "since": "2026-11-21T14:40:00Z"}))
    again = run_cli(["triage", "--resume", folder.name, "--json", *base], cwd=tmp_path)
    assert again.code == EXIT_OK, again.err
    assert not (folder / "triage.lock").exists()


def test_two_triages_racing_for_one_lock_one_wins(tmp_path):
    """Both start at the same instant: exactly one runs; the other is refused with exit 4 (or,
    if the first had already finished, runs after it). Never both inside the lock at once."""
    ex = build_example(tmp_path / "example")
    inc = tmp_path / "inc"
    base = ["--incidents-dir", str(inc), "--now", ex.now.isoformat()]
    made = run_cli(["triage", "--non-interactive", "--json", "--engine", "offline", "--service", ex.service,
                    "--symptom", ex.symptom, "--logs", ex.logs[0], *base], cwd=tmp_path)
    assert made.code == EXIT_OK, made.err
    (folder,) = incident_folders(inc)
    # Make the walk have work left, so both resumes want the lock for a while.
    lines = (folder / j.EVENTS_FILE).read_text().splitlines(keepends=True)
    (folder / j.EVENTS_FILE).write_text("".join(lines[:3]))
    procs = [subprocess.Popen([sys.executable, "-m", "incident", "triage", "--resume", folder.name, "--json", *base],
                              cwd=tmp_path, env=cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    t0 = time.monotonic()
    codes = sorted(p.wait(timeout=120) for p in procs)
    assert time.monotonic() - t0 < 120
    assert codes in ([EXIT_OK, EXIT_CONFLICT], [EXIT_OK, EXIT_OK]), codes
    events = read_back(folder).events
    started = [e.payload["phase"] for e in events if e.type == j.PHASE_STARTED]
    assert len(started) == len(set(started)), started  # no phase was run twice at once


def test_a_lock_being_written_is_not_taken_for_a_stale_one(tmp_path):
    """The holder has created triage.lock but not yet written who it is: a second taker must wait
    for it, then see a live holder; before, it judged the empty file stale and took it too."""
    import pytest

    from incident.errors import Conflict
    from incident.locks import TriageLock

    folder = tmp_path / "inc"
    folder.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, json, os, socket, sys, time\n"
        f"d = os.open({str(folder)!r}, os.O_RDONLY); fcntl.flock(d, fcntl.LOCK_EX)\n"
        f"fd = os.open({str(folder / 'triage.lock')!r}, os.O_WRONLY | os.O_CREAT | os.O_EXCL)\n"
        "print('created', flush=True); time.sleep(0.5)\n"
        "os.write(fd, json.dumps({'pid': os.getpid(), 'host': socket.gethostname(), 'since': 'now'}).encode())\n"
        "os.close(fd); os.close(d); time.sleep(30)\n")], stdout=subprocess.PIPE, env=cli_env())
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"created"
        with pytest.raises(Conflict) as e:
            TriageLock(folder).__enter__()
        assert f"pid {holder.pid}" in e.value.message
        assert json.loads((folder / "triage.lock").read_text())["pid"] == holder.pid
    finally:
        holder.kill()
        holder.wait()
