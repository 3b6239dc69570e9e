"""Facts come from the analysers; the model explains, connects and proposes.

Before a model answers a phase, the offline engine computes the same phase from the evidence. Its
facts — times, rates, the changes in the window, the rollback target — are shown to the model and
then written over whatever the model returned for them, so no timestamp or number in the record
comes from a model. Where the model may judge (which known change is the suspect, how to rank
mitigations), its choice is kept only if it names something the evidence holds.
"""

from __future__ import annotations

from typing import Any

from incident.models import (
    AssessOutput,
    ChangeRef,
    ClassifyOutput,
    ContainOutput,
    Deploy,
    DiagnoseOutput,
    PhaseOutput,
    ProposedCommand,
    RollbackTarget,
    VerifyOutput,
)

# Fields that are measurements or records, never a model's to set.
FACT_FIELDS: dict[type[PhaseOutput], tuple[str, ...]] = {
    ClassifyOutput: ("error_ratio_now", "baseline_error_ratio", "still_elevated"),
    AssessOutput: ("onset", "blast_radius", "changes", "new_error_patterns"),
    DiagnoseOutput: ("onset", "new_error_patterns"),
    VerifyOutput: (
        "mitigation_at", "errors_per_min_before", "errors_per_min_after", "error_ratio_before",
        "error_ratio_after", "recovered_at", "checks",
    ),
}


def merge(model: PhaseOutput, facts: PhaseOutput, deploys: list[Deploy]) -> PhaseOutput:
    """`model`'s answer with the analysers' facts written over it (both of the same phase)."""
    if type(model) is not type(facts):
        return facts
    update: dict[str, Any] = {f: getattr(facts, f) for f in FACT_FIELDS.get(type(model), ())}
    if isinstance(model, (AssessOutput, DiagnoseOutput)):
        assert isinstance(facts, (AssessOutput, DiagnoseOutput))
        changes = facts.changes if isinstance(facts, AssessOutput) else []
        suspect = _known_suspect(model.suspect_change, facts.suspect_change, changes)
        update["suspect_change"] = suspect
        update["rollback_target"] = (
            facts.rollback_target if _same(suspect, facts.suspect_change) else _rollback_for(suspect, deploys)
        )
    if isinstance(model, VerifyOutput):
        assert isinstance(facts, VerifyOutput)
        if facts.status != "unknown":
            update["status"] = facts.status  # the rates and the runbook's checks decide, not the prose
        # A failing or pending runbook check stays in the residual issues whatever the model wrote.
        checks = [r for r in facts.residual_issues if r.startswith("runbook check ") and r not in model.residual_issues]
        if checks:
            update["residual_issues"] = [*model.residual_issues, *checks]
    if isinstance(model, ContainOutput):
        assert isinstance(facts, ContainOutput)
        update.update(_contain(model, facts))
    return model.model_copy(update=update)


def _same(a: ChangeRef | None, b: ChangeRef | None) -> bool:
    return (a is None and b is None) or (a is not None and b is not None and (a.kind, a.id) == (b.kind, b.id))


def _known_suspect(chosen: ChangeRef | None, computed: ChangeRef | None, changes: list[ChangeRef]) -> ChangeRef | None:
    """The model's suspect if it is a change the evidence holds (with the evidence's own time and
    ids, and the model's reasons added); otherwise the computed one."""
    if chosen is None:
        return computed
    for ch in [*changes, *([computed] if computed else [])]:
        if ch.id == chosen.id or (chosen.sha and ch.sha and ch.sha.startswith(chosen.sha[:7])):
            extra = [e for e in chosen.evidence if e not in ch.evidence]
            return ch.model_copy(update={"evidence": [*ch.evidence, *extra]})
    return computed


def _rollback_for(suspect: ChangeRef | None, deploys: list[Deploy]) -> RollbackTarget | None:
    if suspect is None or suspect.kind != "deploy":
        return None
    from incident.tools.deploys import last_good_before

    bad = next((d for d in deploys if d.id == suspect.id and (suspect.service is None or d.service == suspect.service)), None)
    good = last_good_before(deploys, bad) if bad else None
    if good is None:
        return None
    return RollbackTarget(id=good.id, sha=good.sha, at=good.started_at, service=good.service, version=good.version)


def _contain(model: ContainOutput, facts: ContainOutput) -> dict[str, Any]:
    mitigations = list(model.mitigations)
    have = {m.command for m in mitigations if m.command}
    # A runbook's vetted command the model left out is still offered.
    mitigations += [m for m in facts.mitigations if m.vetted and m.command and m.command not in have]
    out: dict[str, Any] = {"mitigations": mitigations}
    if not facts.rollback_first:
        # No change lines up with the onset: a rollback must not lead, whatever the model ranked.
        out["mitigations"] = _rollbacks_last(mitigations)
        out["rollback_first"] = False
        out["note"] = model.note or facts.note
    return out


def _rollbacks_last(ms: list[ProposedCommand]) -> list[ProposedCommand]:
    if not ms or ms[0].kind != "rollback":
        return ms
    return [m for m in ms if m.kind != "rollback"] + [m for m in ms if m.kind == "rollback"]
