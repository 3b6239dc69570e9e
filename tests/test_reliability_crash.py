"""SIGKILL at random points during `incident triage`, `incident note` and `incident postmortem`.

After every kill: each event the CLI had shown as recorded is in the journal, the journal reads
back (a torn last line is the only warning allowed), and `incident triage --resume` finishes the
triage with every phase recorded exactly once. Delays are drawn, from a recorded seed, over the
command's measured duration, so kills land in start-up, evidence gathering, every phase and
the final writes.

The slow test (CI: `pytest -m slow`) runs 120 trials; the normal run covers the path with 6.
"""

from __future__ import annotations

import json
import random
import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from tests.reliability_fixtures import (
    incident_folders,
    journal_lines_at_least,
    phases_shown,
    read_back,
    run_and_kill,
    run_cli,
)

from incident import journal as j
from incident.clock import iso
from incident.resources import data_dir
from incident.scenario import build_example

SEED = 20261121
ALL_PHASES = ["classify", "assess", "contain", "diagnose", "fix", "verify", "review"]


@dataclass
class Bench:
    """The scenario, built once per module, and the measured length of each command."""

    root: Path
    args: list[str]
    now: str
    seconds: dict[str, float] = field(default_factory=dict)
    half_done: Path | None = None  # an incidents dir whose triage stopped after `contain`
    events: int = 0  # events a whole triage records
    incident_id: str = ""


def triage_args(ex, incidents: Path) -> list[str]:
    args = ["triage", "--non-interactive", "--engine", "offline", "--incidents-dir", str(incidents),
            "--service", ex.service, "--symptom", ex.symptom, "--repo", str(ex.repo),
            "--deploys", str(ex.deploys), "--deploys-format", ex.deploys_format,
            "--runbooks", str(data_dir("runbooks")), "--now", ex.now.isoformat()]
    for lg in ex.logs:
        args += ["--logs", lg]
    return args


@pytest.fixture(scope="module")
def bench(tmp_path_factory) -> Bench:
    root = tmp_path_factory.mktemp("crash")
    ex = build_example(root / "example")
    b = Bench(root=root, args=triage_args(ex, root / "ref"), now=ex.now.isoformat())
    ref = run_cli(b.args, cwd=root)
    assert ref.code == 0, ref.err
    b.seconds["triage"] = ref.seconds
    (folder,) = incident_folders(root / "ref")
    b.incident_id = folder.name
    b.events = len(read_back(folder).events)
    # A triage that died after `contain`: the starting point for note/postmortem trials, so the
    # resume after each of them has real work left to do.
    half = root / "half" / folder.name
    shutil.copytree(folder, half)
    lines = (half / j.EVENTS_FILE).read_text().splitlines(keepends=True)
    cut = next(i for i, ln in enumerate(lines) if '"phase.completed"' in ln and '"phase":"contain"' in ln)
    (half / j.EVENTS_FILE).write_text("".join(lines[: cut + 1]))
    b.half_done = root / "half"
    for kind, args in (("note", ["note", folder.name, "timing", "--json"]), ("postmortem", ["postmortem", folder.name, "--now", b.now])):
        runs = [run_cli([*args, "--incidents-dir", str(root / "ref")], cwd=root) for _ in range(2)]
        assert all(r.code == 0 for r in runs), runs[0].err
        b.seconds[kind] = sum(r.seconds for r in runs) / len(runs)
    return b


def resume_args(b: Bench, incidents: Path, incident_id: str, *extra: str) -> list[str]:
    return ["triage", "--resume", incident_id, "--non-interactive", "--incidents-dir", str(incidents), "--now", b.now, *extra]


def assert_resumes(b: Bench, incidents: Path, incident_id: str) -> list[j.Event]:
    """`--resume` after a kill finishes the triage; nothing finished is done twice."""
    done = run_cli(resume_args(b, incidents, incident_id, "--json"), cwd=b.root)
    assert done.code == 0, (done.code, done.err[-2000:])
    doc = json.loads(done.out)
    assert [p["phase"] for p in doc["phases"]] == ALL_PHASES
    events = read_back(incidents / incident_id).events
    completed = Counter(e.payload["phase"] for e in events if e.type == j.PHASE_COMPLETED)
    assert all(completed[p] == 1 for p in ALL_PHASES), completed
    assert any(e.type == j.TRIAGE_FINISHED for e in events)
    assert not (incidents / incident_id / "triage.lock").exists()
    return events


def triage_trial(b: Bench, i: int, rng: random.Random) -> str:
    incidents = b.root / f"t{i}"
    # Half the kills land at a random time, half just after a random event of the walk (so every
    # phase boundary is hit, not only the slow start-up and evidence gathering).
    if rng.random() < 0.5:
        delay, until = rng.uniform(0.0, b.seconds["triage"] * 1.05), None
    else:
        delay, until = b.seconds["triage"] * 3, journal_lines_at_least(incidents, rng.randint(1, b.events))
    run = run_and_kill(b.args[:5] + [str(incidents)] + b.args[6:], cwd=b.root, delay=delay, out_file=b.root / f"t{i}.out", until=until)
    shown = phases_shown(run.out)
    folders = incident_folders(incidents)
    if not folders:
        assert not shown and "incident 20" not in run.out, run.out
        return "before the journal existed"
    (folder,) = folders
    events = read_back(folder).events
    if f"incident {folder.name}" in run.out:
        assert events and events[0].type == j.INCIDENT_CREATED
    completed = [e.payload["phase"] for e in events if e.type == j.PHASE_COMPLETED]
    assert set(shown) <= set(completed), (shown, completed)
    if rng.random() < 0.2:  # kill the resume too, then resume again
        again = run_and_kill(resume_args(b, incidents, folder.name), cwd=b.root,
                             delay=rng.uniform(0.0, b.seconds["triage"]), out_file=b.root / f"t{i}.again.out")
        assert set(phases_shown(again.out)) <= {e.payload["phase"] for e in read_back(folder).events if e.type == j.PHASE_COMPLETED}
    assert_resumes(b, incidents, folder.name)
    if run.code is not None:
        return "finished before the kill"
    return f"after {completed[-1]}" if completed else "before classify"


def note_trial(b: Bench, i: int, rng: random.Random) -> str:
    incidents = b.root / f"n{i}"
    assert b.half_done is not None
    shutil.copytree(b.half_done, incidents)
    lines = (incidents / b.incident_id / j.EVENTS_FILE).read_bytes().count(b"\n")
    # Half at a random time, half the moment the note's line is in the journal (before or while
    # the CLI prints that it was recorded).
    delay, until = rng.uniform(0.5, 2.5) * b.seconds["note"], None
    if rng.random() < 0.5:
        delay, until = b.seconds["note"] * 5, journal_lines_at_least(incidents, lines + 1)
    text = f"trial {i}: support reports EU customers only"
    run = run_and_kill(["note", b.incident_id, text, "--json", "--incidents-dir", str(incidents)], cwd=b.root,
                       delay=delay, out_file=b.root / f"n{i}.out", until=until)
    notes = [e for e in read_back(incidents / b.incident_id).events if e.type == j.NOTE_ADDED]
    reported = run.out.strip().endswith("}")
    if reported:
        at = json.loads(run.out)["at"]
        assert [n.payload["text"] for n in notes] == [text]
        assert iso(notes[0].at) == at
    events = assert_resumes(b, incidents, b.incident_id)
    assert len([e for e in events if e.type == j.NOTE_ADDED]) == len(notes)  # a recorded note survives the resume
    return "reported" if reported else ("recorded, not reported" if notes else "not recorded")


def postmortem_trial(b: Bench, i: int, rng: random.Random) -> str:
    incidents = b.root / f"p{i}"
    assert b.half_done is not None
    shutil.copytree(b.half_done, incidents)
    folder = incidents / b.incident_id
    pm = folder / "postmortem.md"
    # Half at a random time, half the moment the document is renamed into place (before its
    # postmortem.written event).
    delay, until = rng.uniform(0.5, 2.5) * b.seconds["postmortem"], None
    if rng.random() < 0.5:
        delay, until = b.seconds["postmortem"] * 5, pm.exists
    run = run_and_kill(["postmortem", b.incident_id, "--incidents-dir", str(incidents), "--now", b.now], cwd=b.root,
                       delay=delay, out_file=b.root / f"p{i}.out", until=until)
    events = read_back(folder).events
    written = [e for e in events if e.type == j.POSTMORTEM_WRITTEN]
    if written or run.code == 0:
        assert written and pm.is_file()
    if pm.exists():  # write-then-rename: never half a document
        text = pm.read_text()
        assert text.startswith("# ") and text.endswith("\n") and "## Evidence" in text, text[-300:]
    outcome = "written" if written else ("file only" if pm.exists() else "nothing written")
    assert_resumes(b, incidents, b.incident_id)
    again = run_cli(["postmortem", b.incident_id, "--incidents-dir", str(incidents), "--now", b.now], cwd=b.root)
    assert again.code == 0, again.err  # a temp file left by the kill does not get in the way
    return outcome


KINDS = {"triage": triage_trial, "note": note_trial, "postmortem": postmortem_trial}


def run_trials(b: Bench, plan: dict[str, int], seed: int) -> dict[str, Counter[str]]:
    rng = random.Random(seed)
    outcomes: dict[str, Counter[str]] = {k: Counter() for k in plan}
    order = [k for k, n in plan.items() for _ in range(n)]
    rng.shuffle(order)
    for i, kind in enumerate(order):
        trial_seed = rng.randrange(2**32)
        try:
            outcomes[kind][KINDS[kind](b, i, random.Random(trial_seed))] += 1
        except AssertionError as e:
            raise AssertionError(f"{kind} trial {i} (seed {trial_seed}) failed: {e}") from e
    return outcomes


def test_kills_at_random_points_lose_nothing_fast(bench):
    outcomes = run_trials(bench, {"triage": 2, "note": 1, "postmortem": 1}, SEED)
    assert sum(sum(c.values()) for c in outcomes.values()) == 4


@pytest.mark.slow
@pytest.mark.timeout(1100)
def test_kills_at_random_points_lose_nothing(bench, capsys):
    t0 = time.monotonic()
    outcomes = run_trials(bench, {"triage": 60, "note": 30, "postmortem": 30}, SEED + 1)
    elapsed = time.monotonic() - t0
    with capsys.disabled():
        print(f"\ncrash trials: {dict((k, dict(v)) for k, v in outcomes.items())}; measured {bench.seconds}; {elapsed:.0f}s")
    assert sum(sum(c.values()) for c in outcomes.values()) == 120
    # The kills must land inside the work, not only around it.
    assert len(outcomes["triage"]) >= 4, outcomes["triage"]
