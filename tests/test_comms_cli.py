"""`incident comms | status | mark` through the CLI, and the reports on a journal `incident triage` wrote."""

from __future__ import annotations

import json
from pathlib import Path

from tests.report_fixtures import active_then_mitigated, post_incident, t
from tests.test_postmortem import SECTIONS

from incident import journal as j
from incident.state import fold


def test_comms_prints_copyable_drafts_and_records_them(tmp_path: Path, cli) -> None:
    b = post_incident(tmp_path)
    code, out, err = cli("comms", b.journal.id, "--incidents-dir", str(tmp_path), "--now", "2026-11-22T08:40:00Z")
    assert code == 0, err
    assert "status page (initial)" in out and "stakeholder update" in out
    assert "Starting at about Nov 21 22:10 UTC, users of exports saw export files missing." in out
    assert "│" not in out  # no side borders: the text copies cleanly
    assert "next update due 2026-11-22 09:40Z" in out  # SEV-3: every 60 min
    rec = fold(j.Journal(b.folder).events()).comms[-1]
    assert rec.kind == "initial" and rec.next_update_at == t("09:40", 22)


def test_comms_json_and_kinds(tmp_path: Path, cli) -> None:
    b = active_then_mitigated(tmp_path)
    code, out, _ = cli("comms", b.journal.id, "--json", "--incidents-dir", str(tmp_path), "--now", "2026-11-22T10:40:00Z")
    assert code == 0
    d = json.loads(out)
    assert d["kind"] == "resolved" and d["next_update_at"] is None  # chosen from the state: resolved
    assert d["status_page"].startswith("This incident is resolved")
    code, out, err = cli("comms", b.journal.id, "--kind", "update", "--json", "--incidents-dir", str(tmp_path),
                         "--now", "2026-11-22T10:41:00Z")
    assert code == 0 and json.loads(out)["next_update_at"] == "2026-11-22T11:11:00Z"
    code, out, _ = cli("comms", b.journal.id, "--kind", "final", "--json", "--incidents-dir", str(tmp_path))
    assert code == 2 and json.loads(out)["error"]["code"] == "usage"


def test_status_overdue_with_now(tmp_path: Path, cli) -> None:
    b = post_incident(tmp_path)
    d = str(tmp_path)
    cli("comms", b.journal.id, "--incidents-dir", d, "--now", "2026-11-22T08:40:00Z")
    code, out, _ = cli("status", b.journal.id, "--json", "--incidents-dir", d, "--now", "2026-11-22T09:15:00Z")
    r = json.loads(out)
    assert code == 0
    assert (r["next_update_due"], r["due_in_minutes"], r["overdue_minutes"]) == ("2026-11-22T09:40:00Z", 25.0, 0.0)
    code, out, _ = cli("status", b.journal.id, "--incidents-dir", d, "--now", "2026-11-22T10:02:30Z")
    assert code == 0
    assert "update OVERDUE by 22.5 min (was due 2026-11-22 09:40Z)" in out
    assert f"incident comms {b.journal.id} --kind update" in out


def test_mark_with_at_and_errors(tmp_path: Path, cli) -> None:
    b = post_incident(tmp_path)
    d = str(tmp_path)
    code, out, err = cli("mark", b.journal.id, "recovered", "--at", "2026-11-21T22:26:00Z", "--incidents-dir", d,
                         "--now", "2026-11-22T09:00:00Z")
    assert code == 0, err
    assert out.strip() == f"recorded recovered at 2026-11-21T22:26:00Z in {b.journal.id}"
    code, out, _ = cli("mark", b.journal.id, "resolved", "--json", "--incidents-dir", d, "--now", "2026-11-22T09:05:00Z")
    assert code == 0 and json.loads(out)["at"].startswith("2026-11-22T09:05:00")  # the pinned clock still ticks
    st = fold(j.Journal(b.folder).events())
    assert st.recovered_at == t("22:26") and st.status == "resolved" and st.resolved_at.replace(microsecond=0) == t("09:05", 22)  # type: ignore[union-attr]
    code, _, err = cli("mark", b.journal.id, "fixed", "--incidents-dir", d)
    assert code == 2 and "alerted, mitigated, recovered" in err
    code, _, err = cli("mark", b.journal.id, "mitigated", "--at", "2026-11-23T00:00:00Z", "--incidents-dir", d,
                       "--now", "2026-11-22T09:00:00Z")
    assert code == 2 and "in the future" in err
    code, _, err = cli("mark", b.journal.id, "mitigated", "--at", "yesterday-ish", "--incidents-dir", d)
    assert code == 2 and "cannot read time" in err
    # the postmortem now has the recovery the operator gave, and no TODO for it
    code, out, _ = cli("postmortem", b.journal.id, "--json", "--incidents-dir", d)
    keys = {k["key"]: k for k in json.loads(out)["postmortem"]["key_times"]}
    assert keys["recovered"]["at"] == "2026-11-21T22:26:00Z" and keys["recovered"]["todo"] is None
    assert keys["resolved"]["at"].startswith("2026-11-22T09:05:00")


def test_reports_on_a_journal_written_by_triage(tmp_path: Path, cli) -> None:
    d = str(tmp_path / "incidents")
    code, out, err = cli("triage", "--example", "--non-interactive", "--json", "--incidents-dir", d)
    assert code == 0, err
    incident_id = json.loads(out)["incident_id"]
    folder = tmp_path / "incidents" / incident_id
    events = j.Journal(folder).events()
    st = fold(events)
    code, out, _ = cli("comms", incident_id, "--json", "--incidents-dir", d)
    assert code == 0
    page = json.loads(out)["status_page"].lower()
    suspect = st.output("assess")["suspect_change"]  # type: ignore[index]
    assert suspect and f"deploy {suspect['id']}" not in page and "shipping" not in page and "cause" not in page
    cli("mark", incident_id, "mitigated", "--incidents-dir", d)
    cli("mark", incident_id, "recovered", "--incidents-dir", d)
    code, out, err = cli("postmortem", incident_id, "--json", "--incidents-dir", d)
    assert code == 0, err
    pm = json.loads(out)["postmortem"]
    keys = {k["key"]: k for k in pm["key_times"]}
    # times equal the journal's
    assert keys["started"]["at"] == st.output("assess")["onset"]  # type: ignore[index]
    assert keys["detected"]["at"] == events[0].model_dump(mode="json")["at"]
    assert keys["mitigated"]["at"] is not None and keys["recovered"]["at"] is not None
    assert keys["alerted"]["todo"]  # the example has no alert time: TODO, not a guess
    assert {e["path"] for e in pm["evidence"]} >= {"evidence/timeline.json", "evidence/deploys.json"}
    assert all(a["owner"] is None for a in pm["action_items"]) and pm["action_items"]
    md = (folder / "postmortem.md").read_text(encoding="utf-8")
    for s in SECTIONS:
        assert s in md
    assert "```text\nerrors/min" in md
    for deploy in json.loads((folder / "evidence" / "deploys.json").read_text(encoding="utf-8")):
        if deploy.get("actor") and len(deploy["actor"]) >= 3:
            assert deploy["actor"].lower() not in md.lower()
