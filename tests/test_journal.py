import json
import multiprocessing
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from incident import journal as j
from incident.clock import frozen_clock
from incident.errors import NotFound, StorageError, UsageError
from incident.journal import Journal, Workspace, slugify
from incident.state import fold

T0 = datetime(2026, 11, 21, 14, 41, tzinfo=UTC)


def ws(tmp_path: Path) -> Workspace:
    return Workspace(tmp_path / "inc", frozen_clock(T0))


def test_round_trip_and_fold(tmp_path):
    journal = ws(tmp_path).create("checkout 500s", {"service": "checkout", "symptom": "500s", "started_at": "2026-11-21T14:33:00Z"})
    assert journal.id == "2026-11-21-checkout-500s"
    journal.append(j.NOTE_ADDED, {"text": "EU only"})
    journal.append(j.COMMAND_RAN, {"action": "roll back", "command": "helm rollback checkout 26"})
    events = journal.events()
    assert [e.type for e in events] == [j.INCIDENT_CREATED, j.NOTE_ADDED, j.COMMAND_RAN]
    assert all(e.schema_version == 1 and e.at == T0 for e in events)
    st = fold(events)
    assert st.service == "checkout"
    assert st.started_at == datetime(2026, 11, 21, 14, 33, tzinfo=UTC)
    assert st.notes[0].text == "EU only"
    assert st.status == "mitigated" and st.mitigated_at == T0
    line = json.loads(journal.path.read_text().splitlines()[0])
    assert line["at"] == "2026-11-21T14:41:00Z" and line["schema_version"] == 1


def test_ids_are_unique_and_typeable(tmp_path):
    w = ws(tmp_path)
    a = w.create("Checkout: 500s!!", {})
    b = w.create("Checkout: 500s!!", {})
    assert (a.id, b.id) == ("2026-11-21-checkout-500s", "2026-11-21-checkout-500s-2")
    assert slugify("Ünïcode ✓ payments / EU") == "unicode-payments-eu"
    assert w.open("2026-11-21-checkout-500s-2").id == b.id
    assert w.open("last").id in (a.id, b.id)
    with pytest.raises(UsageError, match="matches 2"):
        w.open("checkout")
    with pytest.raises(NotFound):
        w.open("nothing-like-it")
    with pytest.raises(UsageError):
        w.open("../../etc")


def test_torn_last_line_is_skipped_with_a_warning_and_healed_on_append(tmp_path):
    journal = ws(tmp_path).create("torn", {})
    journal.append(j.NOTE_ADDED, {"text": "kept"})
    with open(journal.path, "ab") as f:
        f.write(b'{"schema_version":1,"at":"2026-11-21T14:42:00Z","type":"note.added","payload":{"text":"half')
    result = journal.read()
    assert [e.payload.get("text") for e in result.events] == [None, "kept"]
    assert len(result.warnings) == 1 and "torn" in result.warnings[0]
    journal.append(j.NOTE_ADDED, {"text": "after crash"})
    result = journal.read()
    assert [e.payload.get("text") for e in result.events][-2:] == ["kept", "after crash"]
    assert result.warnings == []


def test_corrupt_middle_line_names_file_and_line(tmp_path):
    journal = ws(tmp_path).create("edited", {})
    journal.append(j.NOTE_ADDED, {"text": "one"})
    lines = journal.path.read_text().splitlines()
    journal.path.write_text("\n".join([lines[0], "{not json", lines[1]]) + "\n")
    with pytest.raises(StorageError) as e:
        journal.read()
    assert f"{journal.path}:2" in e.value.message


def _append_many(path: str, tag: str, n: int) -> None:
    journal = Journal(Path(path))
    for i in range(n):
        journal.append(j.NOTE_ADDED, {"text": f"{tag}-{i}", "pad": "x" * 3000})


def test_concurrent_appends_from_two_processes_lose_nothing(tmp_path):
    journal = ws(tmp_path).create("race", {})
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_append_many, args=(str(journal.folder), tag, 200)) for tag in ("a", "b")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    texts = [e.payload.get("text") for e in journal.events()[1:]]
    assert sorted(texts) == sorted([f"a-{i}" for i in range(200)] + [f"b-{i}" for i in range(200)])


def test_read_only_dir_is_a_storage_error_naming_the_file(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root ignores directory permissions")
    journal = ws(tmp_path).create("ro", {})
    os.chmod(journal.folder, 0o500)
    journal.path.chmod(0o400)
    try:
        with pytest.raises(StorageError, match="events.jsonl"):
            journal.append(j.NOTE_ADDED, {"text": "x"})
    finally:
        os.chmod(journal.folder, 0o700)


def test_fold_keeps_unknown_events_and_latest_values(tmp_path):
    journal = ws(tmp_path).create("fold", {})
    journal.append("some.future.event", {"x": 1})
    journal.append(j.SEVERITY_SET, {"severity": "SEV-2", "confirmed": True})
    journal.append(j.PHASE_COMPLETED, {"phase": "classify", "engine": "offline", "output": {"classification": "active", "severity": "SEV-3"}})
    journal.append(j.STATUS_CHANGED, {"status": "resolved", "at": (T0 + timedelta(hours=1)).isoformat()})
    st = fold(journal.events())
    assert st.severity == "SEV-2"  # confirmed by the operator; the engine's proposal does not override it
    assert st.classification == "active"
    assert st.status == "resolved" and st.resolved_at == T0 + timedelta(hours=1)
    assert st.last_phase == "classify"
