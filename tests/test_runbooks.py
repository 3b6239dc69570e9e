"""The runbook format: loading, file:line:column errors, the JSON Schema, matching."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pytest
from tests.runbook_fixtures import good, minimal, write

from incident.runbooks import (
    MatchRules,
    Runbook,
    json_schema,
    load_runbook_file,
    load_runbooks,
    match_runbooks,
    runbook_brief,
    safe_regex,
)


def test_a_valid_runbook_loads_with_every_field(tmp_path: Path) -> None:
    rb, problems = load_runbook_file(write(tmp_path, "checkout.yaml", good()))
    assert problems == []
    assert rb is not None
    assert rb.id == "checkout-deploy"
    assert rb.reviewed_at == date(2026, 10, 1)
    assert rb.match.services == ["checkout"]
    assert rb.vars == {"namespace": "shop", "release": "checkout"}
    assert [d.format for d in rb.sources.deploys] == ["helm"]
    assert [m.kind for m in rb.mitigations] == ["rollback", "restart"]
    assert rb.verify[0].max_per_minute == 2 and rb.verify[0].within_minutes == 10
    assert rb.escalation == ["#payments-oncall"]
    assert rb.file.endswith("checkout.yaml")
    # positions map back to the source
    assert rb.position(("mitigations", 1, "command")) == (29, 14)
    assert rb.position(("mitigations", 1, "nothing-here")) == (27, 5)  # nearest ancestor


def test_bad_yaml_is_reported_at_its_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", "id: x\ntitle: [unclosed\nowner: o\n")
    rb, problems = load_runbook_file(path)
    assert rb is None
    assert len(problems) == 1
    p = problems[0]
    assert (p.code, p.severity) == ("yaml", "error")
    assert p.where() == f"{path}:3:6"
    assert "not valid YAML" in p.message


def test_unknown_keys_wrong_types_and_missing_fields_point_at_the_right_place(tmp_path: Path) -> None:
    text = (
        "id: x1\n"  # 1
        "title: t\n"  # 2
        "owner: o\n"  # 3
        "reviewed_at: 2026-10-01\n"  # 4
        "match:\n"  # 5
        "  services: [checkout]\n"  # 6
        "  keywrods: [a]\n"  # 7
        "mitigations:\n"  # 8
        "  - action: a\n"  # 9
        "    kind: nope\n"  # 10
        "  - comand: b\n"  # 11
        "severity_hint: SEV-9\n"  # 12
    )
    path = write(tmp_path, "x.yaml", text)
    rb, problems = load_runbook_file(path)
    assert rb is None
    found = {(p.line, p.column, p.message.split(":")[0]) for p in problems}
    assert found == {
        (7, 3, "match.keywrods"),
        (10, 11, "mitigations.0.kind"),
        (11, 5, "mitigations.1.action"),  # missing: shown at the mapping that lacks it
        (11, 5, "mitigations.1.comand"),
        (12, 16, "severity_hint"),
    }
    assert all(p.runbook_id == "x1" and p.code == "schema" for p in problems)
    assert any("unknown key" in p.message for p in problems)


def test_duplicate_keys_are_errors_not_silently_last_wins(tmp_path: Path) -> None:
    path = write(tmp_path, "d.yaml", minimal("d1") + "title: again\n")
    rb, problems = load_runbook_file(path)
    assert rb is None
    assert [(p.code, p.line, p.column) for p in problems] == [("duplicate-key", 7, 1)]


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("", "empty"),
        ("- a\n- b\n", "list"),
        ("just text\n", "str"),
    ],
)
def test_a_runbook_must_be_a_mapping(tmp_path: Path, text: str, what: str) -> None:
    rb, problems = load_runbook_file(write(tmp_path, "m.yaml", text))
    assert rb is None
    assert problems[0].code == "schema" and what in problems[0].message


def test_bad_regexes_and_vars_are_refused_with_positions(tmp_path: Path) -> None:
    text = minimal(
        "r1",
        extra="  symptom_regex: '(a+)+$'\nvars:\n  namespace: '--kubeconfig=/x'\n  bad-name: ok\nsignals:\n  - pattern: '[unclosed'\n",
    )
    rb, problems = load_runbook_file(write(tmp_path, "r.yaml", text))
    assert rb is None
    by_loc = {p.message.split(":")[0]: (p.line, p.column, p.message) for p in problems}
    assert by_loc["match.symptom_regex"][:2] == (7, 18)
    assert "exponential" in by_loc["match.symptom_regex"][2]
    assert by_loc["vars"][:2] == (9, 3)
    assert by_loc["signals.0.pattern"][:2] == (12, 14)
    assert "not a valid regex" in by_loc["signals.0.pattern"][2]


def test_a_billion_laughs_file_is_refused_quickly(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    path = write(tmp_path, "lol.yaml", "\n".join(lines) + "\n")
    t0 = time.monotonic()
    rb, problems = load_runbook_file(path)
    assert rb is None
    assert problems[0].code == "unreadable" and "aliases" in problems[0].message
    assert time.monotonic() - t0 < 5


def test_load_runbooks_walks_dirs_refuses_duplicate_ids_and_missing_paths(tmp_path: Path) -> None:
    d = tmp_path / "runbooks"
    write(d, "a.yaml", minimal("same"))
    write(d, "b.yml", minimal("same", services="[cart]"))
    write(d, "c.yaml", minimal("other"))
    write(d, "notes.txt", "ignored")
    runbooks, problems = load_runbooks([d, tmp_path / "nope"])
    assert [r.id for r in runbooks] == ["same", "other"]
    codes = sorted(p.code for p in problems)
    assert codes == ["duplicate-id", "not-found"]
    dup = next(p for p in problems if p.code == "duplicate-id")
    assert dup.file.endswith("b.yml") and (dup.line, dup.column) == (1, 5)


def test_json_schema_forbids_extra_keys_and_lists_fields() -> None:
    schema = json_schema()
    assert schema["$schema"].endswith("2020-12/schema")
    assert schema["additionalProperties"] is False
    assert {"id", "title", "owner", "reviewed_at", "match", "mitigations", "verify", "vars"} <= set(schema["properties"])
    assert set(schema["required"]) == {"id", "title", "owner", "reviewed_at"}
    mitigation = schema["$defs"]["Mitigation"]
    assert mitigation["additionalProperties"] is False
    assert "rollback" in mitigation["properties"]["kind"]["enum"]


def _rb(rid: str, **match: object) -> Runbook:
    return Runbook.model_validate({"id": rid, "title": rid, "owner": "t", "reviewed_at": "2026-01-01", "match": match})


def test_matching_scores_service_alert_keywords_and_regex_with_reasons() -> None:
    rbs = [
        _rb("checkout-deploy", services=["checkout"], keywords=["500", "deploy"]),
        _rb("generic-5xx", keywords=["500"], symptom_regex=r"\b5\d\d\b"),
        _rb("payments", services=["payments"], keywords=["500"]),
        _rb("alerts", alerts=["HighErrorRate*"]),
        _rb("nothing"),
    ]
    got = match_runbooks(rbs, service="checkout", alert="HighErrorRateCheckout", symptom="returning 500s since the deploy")
    assert [(m.runbook.id, m.score) for m in got] == [("checkout-deploy", 120), ("alerts", 80), ("generic-5xx", 10)]
    assert got[0].reasons == ["service checkout", "keyword '500'", "keyword 'deploy'"]
    assert got[1].reasons == ["alert HighErrorRateCheckout (rule 'HighErrorRate*')"]
    # the regex wants a bare 5xx code: "500s" does not fit \b5\d\d\b, "502" does
    got = match_runbooks(rbs, service=None, alert=None, symptom="gateway answers 502", title=None)
    assert [m.runbook.id for m in got] == ["generic-5xx"]
    assert got[0].reasons == [r"symptom matches /\b5\d\d\b/"]


def test_matching_keywords_are_left_anchored_and_case_blind() -> None:
    rbs = [_rb("oom", keywords=["OOM"]), _rb("timeout", keywords=["timeout"])]
    assert [m.runbook.id for m in match_runbooks(rbs, service=None, alert=None, symptom="room 12 is cold")] == []
    got = match_runbooks(rbs, service=None, alert=None, symptom="pods OOMKilled", title="Timeouts in cart")
    assert [m.runbook.id for m in got] == ["oom", "timeout"]


def test_matching_excludes_runbooks_written_for_other_services_and_is_stable() -> None:
    rbs = [_rb("b", services=["cart"], keywords=["slow"]), _rb("a", keywords=["slow"]), _rb("c", keywords=["slow"])]
    got = match_runbooks(rbs, service="checkout", alert=None, symptom="slow")
    assert [m.runbook.id for m in got] == ["a", "c"]
    assert match_runbooks(rbs, service=None, alert=None, symptom=None) == []
    assert match_runbooks([], service="x", alert="y", symptom="z") == []


def test_a_hostile_symptom_cannot_slow_matching_down() -> None:
    slow = _rb("slow")
    # A catastrophic regex refused at load time; built here around validation, it is still never run.
    slow.match = MatchRules.model_construct(symptom_regex=r"(\w+\s?)*$", services=[], alerts=[], keywords=[])
    fine = _rb("fine", symptom_regex=r"a+b")
    t0 = time.monotonic()
    got = match_runbooks([slow, fine], service=None, alert=None, symptom="a" * 100_000 + "!")
    assert got == []
    assert time.monotonic() - t0 < 2


def test_safe_regex_refuses_nested_repeats_and_overlong_patterns() -> None:
    for bad in ["(a+)+", r"(\w+\s?)*$", "(?:x*)*", "((ab)*c)+", "(a{1,3})+", "a" * 501, "[x"]:
        with pytest.raises(ValueError):
            safe_regex(bad)
    for ok in [r"status=5\d\d", "(ab){2,5}", "(foo|bar)+", r"timeout after \d+ ms", "(a{3})+", r"(\d++\.)+", r"(?>a+)+"]:
        assert safe_regex(ok).pattern == ok


def test_runbook_brief_names_why_signals_escalation_and_links(tmp_path: Path) -> None:
    rb, _ = load_runbook_file(write(tmp_path, "c.yaml", good()))
    assert rb is not None
    text = runbook_brief(rb, ["service checkout", "keyword '500'"])
    assert text.splitlines()[0] == "Runbook checkout-deploy: Checkout errors after a deploy (owner: payments-team, reviewed 2026-10-01)"
    assert "Matched because: service checkout; keyword '500'" in text
    assert "KeyError" in text and "#payments-oncall" in text and "https://wiki.example.com/checkout" in text
    assert "Roll back the release to the last good revision [rollback]" in text
