"""Engine level: gather + every planned phase with the offline engine, over generated scenarios."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.offline_fixtures import run_all
from tests.scenario_catalog import ONSET_TOLERANCE, SCENARIOS

from incident.models import AssessOutput, ClassifyOutput, ContainOutput, DiagnoseOutput, VerifyOutput
from incident.scenario import build_scenario


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario(tmp_path: Path, name: str) -> None:
    spec, want = SCENARIOS[name]
    paths = build_scenario(tmp_path / name, spec)
    ev, outs = run_all(paths)
    classify = outs["classify"]
    assert isinstance(classify, ClassifyOutput)
    assert classify.classification == want.classification, classify.summary
    assert classify.severity in want.severity, classify.severity_reason
    assert ev.timeline is not None and ev.timeline.onset is not None
    tolerance = max(ONSET_TOLERANCE, want.onset_tolerance)
    if not want.gradual:  # a slow climb crosses the timeline's threshold late; the engine's estimate is earlier
        assert abs(ev.timeline.onset - spec.onset) <= tolerance
    diag = outs["diagnose"]
    assert isinstance(diag, DiagnoseOutput)
    if want.classification == "post-incident":
        assert "assess" not in outs and "contain" not in outs
    else:
        assess = outs["assess"]
        assert isinstance(assess, AssessOutput)
        assert assess.onset is not None and abs(assess.onset - spec.onset) <= tolerance
        assert assess.likely_trigger == want.likely_trigger, assess.summary
        assert (assess.suspect_change.id if assess.suspect_change else None) == want.suspect, assess.suspect_change
        if want.suspect:
            assert assess.suspect_change is not None and assess.suspect_change.service == want.suspect_service
        assert (assess.rollback_target.id if assess.rollback_target else None) == want.rollback_target
        contain = outs["contain"]
        assert isinstance(contain, ContainOutput)
        assert contain.rollback_first == (want.rollback_target is not None), contain.note
        if want.suspect is None:
            assert contain.note and "not recommended" in contain.note
            assert contain.mitigations and contain.mitigations[0].kind != "rollback"
    if "verify" in want.extra:
        verify = outs["verify"]
        assert isinstance(verify, VerifyOutput)
        assert verify.status == want.extra["verify"], verify.summary
    for name_, out in outs.items():
        assert out.summary, name_
