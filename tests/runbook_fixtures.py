"""Runbook texts and helpers shared by the runbook, actions, init and dry-run tests."""

from __future__ import annotations

import textwrap
from pathlib import Path

GOOD = """\
id: checkout-deploy
title: Checkout errors after a deploy
owner: payments-team
reviewed_at: {reviewed}
match:
  services: [checkout]
  alerts: [CheckoutHighErrorRate]
  keywords: ["500", deploy]
severity_hint: SEV-2
vars:
  namespace: shop
  release: checkout
sources:
  logs: [logs/*.log]
  deploys: {{path: deploys/helm-history.json, format: helm}}
signals:
  - pattern: 'KeyError: .currency.'
    meaning: the new price formatter expects a currency
mitigations:
  - action: Roll back the release to the last good revision
    kind: rollback
    command: helm rollback {{{{ vars.release }}}} {{{{ rollback.revision }}}} -n {{{{ vars.namespace }}}} --wait
    expected_effect: errors stop within minutes
    risk: low
    reversibility: roll forward again
    time_to_effect: 2-5 min
  - action: Restart the pods
    kind: restart
    command: kubectl rollout restart deployment/{{{{ service }}}} -n {{{{ vars.namespace }}}}
verify:
  - description: 5xx responses back to normal
    pattern: 'status=5\\d\\d'
    max_per_minute: 2
    within_minutes: 10
escalation: ["#payments-oncall"]
links: ["https://wiki.example.com/checkout"]
"""


def good(reviewed: str = "2026-10-01") -> str:
    return GOOD.format(reviewed=reviewed)


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def minimal(rid: str, *, services: str = "[checkout]", extra: str = "") -> str:
    return (
        f"id: {rid}\ntitle: {rid} title\nowner: team\nreviewed_at: 2026-10-01\n"
        f"match:\n  services: {services}\n{extra}"
    )
