"""Write actions as data: rendering a runbook's command templates, and labelling commands.

Nothing here runs a command. A runbook template is filled only with values that fit the
placeholder's pattern (an ASCII name, a hex sha, ...); a value that does not fit is refused
and the mitigation is kept without a command, so a hostile deploy id or service name can
never be spliced into a command the operator might paste.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from incident.models import ProposedCommand

if TYPE_CHECKING:
    from incident.runbooks import Mitigation, Runbook

# Every pattern below is ASCII-only, starts with a letter or digit (so a value can never be
# read as an option such as `--kubeconfig=/x`), and uses only characters that `shlex.quote`
# leaves alone: quoting is a second guard, not the first.
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
INCIDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,80}")
REVISION = re.compile(r"[0-9]{1,12}|[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
SHA = re.compile(r"[0-9a-fA-F]{7,40}")
VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
VAR_VALUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@+=,-]{0,127}")


@dataclass(frozen=True)
class Placeholder:
    name: str
    pattern: re.Pattern[str]
    describes: str
    sample: str


_REVS = {
    "revision": (REVISION, "a deploy revision (digits or a short id)", "41"),
    "sha": (SHA, "a git sha (7-40 hex digits)", "9f2c1ab"),
    "version": (VERSION, "a version (letters, digits, . _ + -)", "1.42.0"),
}
PLACEHOLDERS: dict[str, Placeholder] = {
    "service": Placeholder("service", NAME, "a service name", "checkout"),
    "environment": Placeholder("environment", NAME, "an environment name", "production"),
    "incident.id": Placeholder("incident.id", INCIDENT_ID, "an incident id", "2026-11-21-checkout-500s"),
    **{
        f"{who}.{key}": Placeholder(f"{who}.{key}", pat, desc, sample)
        for who in ("rollback", "suspect")
        for key, (pat, desc, sample) in _REVS.items()
    },
}


def placeholder_spec(name: str) -> Placeholder | None:
    if name.startswith("vars.") and name.count(".") == 1:
        return Placeholder(name, VAR_VALUE, "a runbook variable", "sample")
    return PLACEHOLDERS.get(name)


class TemplateError(ValueError):
    """A command template that is not plain text with `{{ dotted.name }}` placeholders."""


def _env() -> Any:
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)
    # Templates are only text and names (checked below); with no filters, tests or globals
    # there is nothing left for a template to call even if that check were bypassed.
    env.filters.clear()
    env.tests.clear()
    env.globals.clear()
    return env


def template_placeholders(template: str) -> list[str]:
    """The dotted names a command template uses, in order; TemplateError for anything else
    (filters, calls, `{% %}` blocks, subscripts)."""
    from jinja2 import TemplateSyntaxError, nodes

    try:
        tree = _env().parse(template)
    except TemplateSyntaxError as e:
        raise TemplateError(f"template syntax error on line {e.lineno}: {e.message}") from None
    names: list[str] = []

    def dotted(n: Any) -> str | None:
        if isinstance(n, nodes.Name):
            return n.name
        if isinstance(n, nodes.Getattr):
            base = dotted(n.node)
            return f"{base}.{n.attr}" if base else None
        return None

    for stmt in tree.body:
        if not isinstance(stmt, nodes.Output):
            raise TemplateError("only plain text and {{ placeholders }} are allowed (no {% %} blocks)")
        for part in stmt.nodes:
            if isinstance(part, nodes.TemplateData):
                continue
            name = dotted(part)
            if name is None:
                raise TemplateError("a placeholder is a plain name such as {{ service }} or {{ rollback.revision }} (no filters, calls or [])")
            names.append(name)
    return names


def _lookup(values: dict[str, Any], dotted: str) -> Any:
    cur: Any = values
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def check_value(name: str, value: Any) -> tuple[str | None, str | None]:
    """(the quoted value, None) if `value` fits placeholder `name`, else (None, why not)."""
    spec = placeholder_spec(name)
    if spec is None:
        return None, f"unknown placeholder {{{{ {name} }}}}"
    if value is None:
        return None, f"no value for {{{{ {name} }}}}"
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None, f"{{{{ {name} }}}} must be text, got {type(value).__name__}"
    text = str(value)
    if not spec.pattern.fullmatch(text):
        shown = text if len(text) <= 60 else text[:57] + "..."
        return None, f"refused {{{{ {name} }}}} = {shown!r}: not {spec.describes}"
    return shlex.quote(text), None


def render_command(template: str, values: dict[str, Any]) -> tuple[str | None, list[str]]:
    """Fill one template. Returns (command, problems); command is None when anything was refused."""
    try:
        names = template_placeholders(template)
    except TemplateError as e:
        return None, [str(e)]
    problems: list[str] = []
    context: dict[str, Any] = {}
    for name in dict.fromkeys(names):
        quoted, why = check_value(name, _lookup(values, name))
        if why:
            problems.append(why)
            continue
        head, _, tail = name.partition(".")
        if tail:
            context.setdefault(head, {})[tail] = quoted
        else:
            context[head] = quoted
    if problems:
        return None, problems
    command = _env().from_string(template).render(**context).strip()
    if "\n" in command or "\r" in command:
        return None, ["a command template is one line (use YAML's folded `>-` style to wrap it)"]
    try:
        shlex.split(command)
    except ValueError as e:
        return None, [f"rendered command does not parse as shell words: {e}"]
    return command, []


def mitigation_command(m: Mitigation, rb: Runbook, values: dict[str, Any]) -> tuple[ProposedCommand, list[str]]:
    command, problems = (None, []) if m.command is None else render_command(m.command, values)
    refused = m.command is not None and command is None
    pc = ProposedCommand(
        action=m.action,
        command=command,
        expected_effect=m.expected_effect,
        risk=m.risk,
        reversibility=m.reversibility,
        time_to_effect=m.time_to_effect,
        vetted=not refused,
        destructive=m.destructive or (command is not None and is_destructive(command)),
        runbook_id=rb.id,
        kind=m.kind,
    )
    return pc, [f"runbook {rb.id}, mitigation '{m.action}': {p}; no command proposed" for p in problems]


def render_runbook_commands(rb: Runbook, values: dict[str, Any]) -> tuple[list[ProposedCommand], list[str]]:
    """The runbook's mitigations as vetted ProposedCommands, best first, plus refusals.

    `values`: service, environment, incident.id, rollback/suspect {revision, sha, version};
    `vars` defaults to the runbook's own. A mitigation whose command cannot be filled safely is
    kept (the action is still advice) with no command and vetted=False.
    """
    values = {**values, "vars": rb.vars if values.get("vars") is None else values["vars"]}
    out: list[ProposedCommand] = []
    problems: list[str] = []
    for m in rb.mitigations:
        pc, probs = mitigation_command(m, rb, values)
        out.append(pc)
        problems.extend(probs)
    return out, problems


# ---------------------------------------------------------------- destructive commands

MAX_REVIEWABLE_COMMAND = 10_000
_I = re.IGNORECASE
_DESTRUCTIVE: list[re.Pattern[str]] = [
    re.compile(r"(?:^|[;&|(`]|\$\(|\bsudo|\bxargs|\bexec)\s*rm\s"),
    re.compile(r"\brm\s+(?:\S+\s+)*?(?:-[A-Za-z]*[rRf][A-Za-z]*|--recursive|--force)\b"),
    re.compile(r"\bfind\b.*\s-delete\b"),
    re.compile(r"\b(?:rmdir|shred|wipefs|mkfs(?:\.\w+)?|fdisk|sfdisk|parted)\b"),
    re.compile(r"\bdd\b[^|;&]*\bof="),
    re.compile(r">\s*/dev/(?:sd|nvme|xvd|vd|hd)"),
    re.compile(r"\bdrop\s+(?:table|database|schema|index|view|user|role|keyspace|collection)\b", _I),
    re.compile(r"\btruncate\b", _I),
    re.compile(r"\b(?:flushall|flushdb)\b", _I),
    re.compile(r"\.drop(?:Database)?\s*\(", _I),  # mongo shell
    re.compile(r"\bkubectl\b.*\s(?:delete|drain)\b"),
    re.compile(r"\bkubectl\b.*\s(?:replace|apply)\b.*\s--force\b"),
    re.compile(r"\bhelm\b.*\s(?:uninstall|delete|del)\b"),
    re.compile(r"\bgit\b.*\spush\b.*(?:\s(?:-f|--force(?:-with-lease)?(?:=\S*)?|--delete|-d|--mirror|--prune)\b|\s\+\S)"),
    re.compile(r"\bpush\b.*\s(?:-f|--force)\b"),
    re.compile(r"\bgit\b.*\s(?:reset\s+--hard|clean\s+-[A-Za-z]*f|branch\s+-D)\b"),
    re.compile(r"\b(?:terraform|tofu|terragrunt)\b.*\s(?:destroy\b|apply\b.*\s-destroy\b)"),
    re.compile(r"\bpulumi\b.*\s(?:destroy|down)\b"),
    re.compile(r"\bargocd\b.*\s(?:app|appset|proj|cluster)\s+(?:delete|rm)\b"),
    re.compile(r"\bheroku\b.*\s(?:apps:destroy|pg:reset|destroy)\b"),
    re.compile(r"\bdocker\b.*\s(?:system\s+prune|volume\s+(?:rm|prune)|rm\s+-f|rmi\s+-f)\b"),
    re.compile(r"\baws\b.*\s(?:s3\s+rb\b|s3\s+rm\b.*--recursive|terminate-instances|delete-\S+)"),
    re.compile(r"\b(?:gcloud|az)\b.*\s(?:delete|destroy)\b"),
    re.compile(r"\b(?:gsutil|gcloud\s+storage)\b.*\srm\b.*\s-r\b"),
]


def _delete_or_update_without_where(command: str) -> bool:
    for m in re.finditer(r"\b(delete\s+from|update\s+\S+\s+set)\b", command, _I):
        statement = re.split(r";|&&|\|\|", command[m.end():], maxsplit=1)[0]
        if not re.search(r"\bwhere\b", statement, _I):
            return True
    return False


def is_destructive(command: str) -> bool:
    """Does this command destroy data or state that a rollback cannot bring back?

    A label for the operator, deliberately broad: it reads the whole string (quoted SQL
    included), so `psql -c "DELETE FROM orders"` counts, and a false alarm is cheaper than a
    missed one.
    """
    if len(command) > MAX_REVIEWABLE_COMMAND:
        return True  # nobody can review it under pressure; treat it as dangerous
    text = " ".join(command.split())
    return any(p.search(text) for p in _DESTRUCTIVE) or _delete_or_update_without_where(text)


def label_commands(proposed: list[ProposedCommand], vetted: list[ProposedCommand]) -> list[ProposedCommand]:
    """Label commands a model proposed: vetted only when the command string is exactly one a
    runbook rendered (or, for a step with no command, its action text is exactly the runbook's);
    destructive if it looks destructive, the runbook says so, or the model did."""
    by_command = {v.command: v for v in vetted if v.vetted and v.command}
    by_action = {v.action: v for v in vetted if v.vetted and not v.command}
    out: list[ProposedCommand] = []
    for p in proposed:
        match = by_command.get(p.command) if p.command else by_action.get(p.action)
        destructive = p.destructive or (p.command is not None and is_destructive(p.command))
        out.append(
            p.model_copy(
                update={
                    "vetted": match is not None,
                    "destructive": destructive or (match is not None and match.destructive),
                    "runbook_id": match.runbook_id if match else None,
                }
            )
        )
    return out
