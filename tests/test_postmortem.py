"""The postmortem is built from the journal: sections, times, TODOs, owners, blameless wording."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tests.report_fixtures import (
    ACTORS,
    Built,
    active_then_mitigated,
    external_cause,
    post_incident,
    snapshot,
    t,
)

from incident import journal as j
from incident.report import Postmortem, build_postmortem, draft_narrative, render_postmortem_markdown
from incident.report_text import text_chart
from incident.state import fold

SECTIONS = [
    "## Summary",
    "## Incident timeline",
    "**Total duration of user impact:**",
    "**Detection.**",
    "## Impact",
    "## Root cause",
    "**Trigger:**",
    "**Mechanism:**",
    "**Why it was not caught earlier:**",
    "## Mitigation and fix",
    "**Files changed:**",
    "**Tests added:**",
    "## Contributing factors",
    "## Action items",
    "## Lessons learned",
    "### What went well",
    "### What could be improved",
    "### Where we got lucky",
    "## Evidence",
]
# Facts no journal can hold: always left for the team.
ALWAYS_TODO = {"users were affected", "revenue or data impact"}


def build(b: Built, slo: float | None = 99.9) -> tuple[Postmortem, str]:
    events = b.journal.events()
    pm = build_postmortem(fold(events), events, b.folder, slo_target=slo)
    return pm, render_postmortem_markdown(pm)


def fmt(dt) -> str:
    return dt.strftime("%Y-%m-%d %H:%M:%SZ")


@pytest.mark.parametrize("scenario", [active_then_mitigated, post_incident, external_cause])
def test_every_section_is_present(tmp_path: Path, scenario) -> None:
    _, md = build(scenario(tmp_path))
    positions = [md.index(s) for s in SECTIONS]
    assert positions == sorted(positions), "sections out of order"


def test_full_journal_leaves_todos_only_for_what_no_journal_holds(tmp_path: Path) -> None:
    pm, md = build(active_then_mitigated(tmp_path))
    leftover = [x for x in pm.todos if not any(k in x for k in ALWAYS_TODO)]
    assert leftover == []
    # Exactly the always-TODO facts, plus the "where we got lucky" prompt in the template.
    assert md.count("TODO:") == len(ALWAYS_TODO) + 1
    assert all(k.at is not None and k.todo is None for k in pm.key_times)


def test_key_times_equal_the_journal(tmp_path: Path) -> None:
    pm, md = build(active_then_mitigated(tmp_path))
    times = {k.key: k.at for k in pm.key_times}
    assert times == {
        "started": t("14:33"),  # the onset assess recorded
        "detected": t("14:38"),  # incident.created
        "alerted": t("14:35"),  # status.changed alerted, its operator-given time
        "mitigated": t("14:43"),  # command.ran ran_at, not the 14:44:30 it was recorded
        "recovered": t("14:47"),  # verify's recovered_at
        "fix_deployed": t("10:00", 22),
        "resolved": t("10:30", 22),
    }
    assert pm.impact_minutes == 14.0
    assert "**Total duration of user impact:** 14 min" in md
    for at in times.values():
        assert fmt(at) in md


def test_timeline_rows_come_from_events_in_order(tmp_path: Path) -> None:
    b = active_then_mitigated(tmp_path)
    pm, md = build(b)
    ats = [r.at for r in pm.timeline]
    assert ats == sorted(ats)
    rows = {(r.what, r.at) for r in pm.timeline}
    events = b.journal.events()
    for ev in events:
        if ev.type in (j.NOTE_ADDED, j.COMMS_DRAFTED, j.SEVERITY_SET, j.INCIDENT_CREATED):
            assert ev.at in {r.at for r in pm.timeline}, ev.type
    assert ("Stakeholders updated", t("14:40")) in rows  # when stakeholders were told
    assert ("Stakeholders updated", t("15:01")) in rows
    assert ("Mitigation applied", t("14:43")) in rows
    assert ("Change went out", t("14:32")) in rows
    assert "| 2026-11-21 14:40:00Z | Stakeholders updated | initial update drafted; next update due 2026-11-21 15:10:00Z |" in md


def test_post_incident_marks_missing_facts_as_todo(tmp_path: Path) -> None:
    pm, md = build(post_incident(tmp_path), slo=None)
    times = {k.key: k for k in pm.key_times}
    assert times["started"].at == t("22:10")  # the operator's --started
    assert times["recovered"].at == t("22:25")  # evidence/timeline.json, back at baseline
    for key in ("alerted", "mitigated", "fix_deployed", "resolved"):
        assert times[key].at is None and times[key].todo and times[key].todo.startswith("TODO:")
    text = "\n".join(pm.todos)
    for missing in ("alerted", "what restored service", "contributing factors", "what went well", "SLO", "how the problem was noticed"):
        assert missing in text
    assert "No mitigation was recorded in the journal." in md
    assert "| Vetted by a runbook |" not in md  # no applied-actions table without actions
    # facts it did have are not TODO
    assert "exports/job.py" in md and "TODO: the files the fix changes" not in md


def test_external_cause_names_no_suspect_change(tmp_path: Path) -> None:
    pm, md = build(external_cause(tmp_path))
    assert pm.root_cause.suspect_change is None
    assert "Change correlated with the onset" not in md
    assert "Change went out" not in md
    assert pm.root_cause.category == "external dependency failure"
    assert "partially working: errors per minute 45 before, 3 after." in md
    assert {k.key: k.at for k in pm.key_times}["recovered"] == t("16:38")  # `mark recovered --at`
    assert pm.impact_minutes == 48.0
    assert "TODO: the proper fix (planned or applied)" in md  # no fix phase was recorded


def test_owners_are_never_assigned(tmp_path: Path) -> None:
    pm, md = build(active_then_mitigated(tmp_path))
    assert [a.owner for a in pm.action_items] == [None, None, None]
    assert all(a.unassigned for a in pm.action_items)
    assert [a.priority for a in pm.action_items] == ["P0", "P1", "P2"]
    assert md.count("unassigned — the team decides") == 3
    assert "3 of 3 action items have no owner" in md
    assert any("owner" in w for w in pm.warnings)


def test_an_owner_a_person_recorded_is_kept(tmp_path: Path) -> None:
    from incident.models import ActionItem, ReviewOutput

    b = post_incident(tmp_path)
    b.phase(t("09:00", 22), "review", ReviewOutput(action_items=[ActionItem(description="Alert on disk", priority="P1", owner="storage team")]),
            engine="scripted")
    pm, md = build(b)
    assert pm.action_items[0].owner == "storage team" and not pm.action_items[0].unassigned
    assert "| storage team |" in md


def test_blameless_no_actor_name_appears(tmp_path: Path) -> None:
    pm, md = build(active_then_mitigated(tmp_path))
    dumped = pm.model_dump_json()
    for name in ("alice", "Bob", "Jones", "carol"):
        assert name.lower() not in md.lower(), name
        assert name.lower() not in dumped.lower(), name
    assert "the deploy of rev-27" in md
    assert ACTORS  # the fixture's deploys and note carry these names


def test_scrub_keeps_ordinary_words() -> None:
    from incident.blameless import scrub

    names = ["alice", "alice.smith"]
    assert scrub("rolled back the deploy by alice.smith at 14:31", names) == "rolled back the deploy at 14:31"
    assert scrub("alice: bump pool", names) == "bump pool"
    assert scrub("malice in the pool; Alice said so", names) == "malice in the pool; a team member said so"
    # emails and @handles are people even when no deploy record named them
    assert scrub("pushed by dev.one@example.com, reviewed by @sam-k; cc ops@example.org", []) == "pushed, reviewed; cc a team member"
    assert scrub("retry by 20% via the pool", []) == "retry by 20% via the pool"
    assert scrub("lines without @timestamp were skipped", []) == "lines without @timestamp were skipped"


def test_evidence_links_are_relative_and_present(tmp_path: Path) -> None:
    pm, md = build(active_then_mitigated(tmp_path))
    for name in ("timeline.json", "deploys.json", "error-samples.log", "patterns.json", "suspect.diff"):
        assert f"[evidence/{name}](evidence/{name})" in md
    assert all(e.exists for e in pm.evidence)
    assert "```text\nerrors/min" in md


def test_missing_evidence_and_hostile_text(tmp_path: Path) -> None:
    b = post_incident(tmp_path)
    (b.folder / "evidence" / "timeline.json").write_text("{not json", encoding="utf-8")
    b.at(t("09:00", 22), j.NOTE_ADDED, {"text": "a | pipe <script>x</script>\nnewline"})
    b.at(t("09:01", 22), j.EVIDENCE_SAVED, {"path": "evidence/gone.log"})
    pm, md = build(b)
    assert any("timeline.json: unreadable" in w for w in pm.warnings)
    assert "a \\| pipe &lt;script>x&lt;/script> newline" in md
    assert "(missing from the folder)" in md
    assert pm.chart is None


def test_text_chart_marks_deploy_onset_and_recovery(tmp_path: Path) -> None:
    b = active_then_mitigated(tmp_path)
    pm, _ = build(b)
    assert pm.chart is not None
    lines = pm.chart.splitlines()
    bars = lines[1]
    assert bars.startswith("|") and bars.endswith("|") and "█" in bars
    assert any(line.strip() == "D" for line in lines[2:4])
    assert "D deploy rev-27 to checkout at 14:31Z" in pm.chart
    from incident.models import ErrorTimeline

    assert text_chart(ErrorTimeline(), []) == "no timed error lines in the window"


def test_claude_drafts_only_narrative_and_keeps_facts(tmp_path: Path) -> None:
    pm, _ = build(post_incident(tmp_path))
    seen: list[str] = []

    def complete(system: str, prompt: str) -> str:
        seen.append(prompt)
        if "Section: Root cause" in prompt:
            return "The export worker filled its scratch disk at 23:59 and stopped."  # 23:59 is not a recorded time
        return "A rewritten paragraph."

    out = draft_narrative(pm, complete)
    assert len(seen) == 5 and all("<facts>" in p for p in seen)
    assert out.summary.startswith("A rewritten paragraph.")
    assert out.root_cause.narrative == pm.root_cause.narrative  # invented time: rejected
    assert any("23:59" in w for w in out.warnings)
    assert out.timeline == pm.timeline and out.key_times == pm.key_times
    # a TODO the draft dropped is put back
    assert "TODO: what restored service" in out.mitigation.narrative
    assert out.engine.startswith("claude (4/5")


def test_claude_failure_keeps_offline_text(tmp_path: Path) -> None:
    pm, _ = build(external_cause(tmp_path))

    def broken(system: str, prompt: str) -> str:
        raise TimeoutError("budget spent")

    out = draft_narrative(pm, broken)
    assert out.summary == pm.summary and out.impact.narrative == pm.impact.narrative
    assert sum("budget spent" in w for w in out.warnings) == 5


def test_slo_budget(tmp_path: Path) -> None:
    pm, _ = build(active_then_mitigated(tmp_path), slo=99.9)
    # 14 min at 23% failing = 3.22 full-outage minutes of a 43.2-minute budget
    assert "43.2 minutes" in pm.impact.slo and "3.2 minutes" in pm.impact.slo and "7%" in pm.impact.slo
    pm, _ = build(active_then_mitigated(tmp_path / "x"), slo=None)
    assert pm.impact.slo.startswith("TODO:")


def test_custom_template(tmp_path: Path) -> None:
    from incident.errors import UsageError

    pm, _ = build(external_cause(tmp_path))
    tpl = tmp_path / "team.md.j2"
    tpl.write_text("# {{ pm.title }}\n{% for r in pm.timeline %}{{ r.at | t }} {{ r.what }}\n{% endfor %}", encoding="utf-8")
    out = render_postmortem_markdown(pm, template=tpl)
    assert out.startswith("# payments timing out\n2026-11-21 15:50:00Z Errors began\n")
    tpl.write_text("{{ pm.no_such_field }}", encoding="utf-8")
    with pytest.raises(UsageError, match="no_such_field"):
        render_postmortem_markdown(pm, template=tpl)
    tpl.write_text("{% for %}", encoding="utf-8")
    with pytest.raises(UsageError, match=r"team.md.j2:1"):
        render_postmortem_markdown(pm, template=tpl)


def test_snapshot_active_postmortem(tmp_path: Path) -> None:
    _, md = build(active_then_mitigated(tmp_path))
    snapshot("postmortem_active.md", re.sub(r"\n{3,}", "\n\n", md))


def test_scrub_leaves_code_spans_alone() -> None:
    from incident.blameless import scrub

    text = "record it with `incident mark ID alerted --at TIME`; Mark saw the page first"
    assert scrub(text, ["Mark"]) == "record it with `incident mark ID alerted --at TIME`; a team member saw the page first"


def test_long_notes_and_odd_evidence_paths(tmp_path: Path) -> None:
    b = post_incident(tmp_path)
    b.at(t("09:00", 22), j.NOTE_ADDED, {"text": "x" * 5000})
    odd = b.folder / "evidence" / "dump (1).log"
    odd.write_text("data", encoding="utf-8")
    b.at(t("09:01", 22), j.EVIDENCE_SAVED, {"path": "evidence/dump (1).log"})
    b.at(t("09:02", 22), j.EVIDENCE_SAVED, {"path": "../../etc/passwd"})
    pm, md = build(b)
    note = next(r for r in pm.timeline if r.what == "Note")
    assert len(note.detail) < 500 and note.detail.endswith("(full note in the journal)")
    assert "[evidence/dump (1).log](<evidence/dump (1).log>)" in md
    assert "passwd" not in md


def test_post_incident_triage_onset_and_change_come_from_diagnose(tmp_path: Path) -> None:
    from tests.report_fixtures import new

    from incident.comms import DEFAULT_CADENCE, draft_comms
    from incident.models import ChangeRef, ClassifyOutput, DiagnoseOutput

    b = new(tmp_path, "search was slow overnight", t("09:00", 22), service="search")
    b.phase(t("09:01", 22), "classify", ClassifyOutput(classification="post-incident", severity="SEV-3", start_phase="diagnose"))
    change = ChangeRef(kind="deploy", id="v88", service="search", at=t("01:58", 22), summary="by alice: new ranking model")
    b.phase(t("09:03", 22), "diagnose", DiagnoseOutput(root_cause="the v88 ranking model was slow", onset=t("02:00", 22),
                                                     suspect_change=change, category="code defect"))
    b.evidence(t("09:02", 22), "deploys.json", '[{"id": "v88", "service": "search", "started_at": "2026-11-22T01:57:00Z", "actor": "alice"}]')
    pm, md = build(b)
    started = next(k for k in pm.key_times if k.key == "started")
    assert started.at == t("02:00", 22) and "diagnose" in started.source
    rows = {(r.what, r.at) for r in pm.timeline}
    assert ("Errors began", t("02:00", 22)) in rows and ("Change went out", t("01:58", 22)) in rows
    assert pm.root_cause.suspect_change == "the deploy of v88 to search (new ranking model)"
    assert "alice" not in md
    page = draft_comms(fold(b.journal.events()), "initial", cadence=DEFAULT_CADENCE, now=t("09:05", 22)).status_page
    assert page.startswith("Starting at about 02:00 UTC, users of search saw elevated errors.") and "v88" not in page
