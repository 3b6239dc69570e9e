"""Every path to a model, end to end, on logs seeded with secrets: the prompts a triage renders
(`incident prompt`, what a chat assistant is given) and the Claude engine's requests when the
real log tools show the lines (the loopback fake records every byte that crossed the wire)."""

from __future__ import annotations

import json
import random
from pathlib import Path

from claude_fixtures import ASSESS, NOW, answer_json, brief
from fake_anthropic import FAKE_KEY, FakeAnthropic, fake_anthropic_fixture, text, tool_calls  # noqa: F401
from incident.engines.claude import ClaudeEngine
from incident.errors import EXIT_OK
from incident.phases import PHASES
from incident.scenario import build_example
from incident.tools.base import Roots, Toolbox, ToolContext
from redaction_corpus import URLSAFE, rnd, secrets, shape_formats
from redaction_keyblocks import armour, body


def _leaked(values: list[str], out: str) -> list[str]:
    def one(s: str) -> bool:
        w = min(8, len(s))
        return any(s[i : i + w] in out for i in range(len(s) - w + 1))

    return [v for v in values if one(v)]


def _seeded_lines(rng: random.Random, stamp: str) -> tuple[list[str], list[str]]:
    """Log records holding secrets (a key one line per record, keys by shape, one-line corpus
    cases), each stamped `stamp` + a counter; and the secrets they hold."""
    key = body(rng, 700)
    block = [armour("RSA PRIVATE KEY", "BEGIN"), *key, armour("RSA PRIVATE KEY", "END")]
    lines = [f"{stamp}.{j:03d}Z ERROR [checkout] {x}" for j, x in enumerate(block)]
    shaped = [tok for _ in range(3) for _, tok in shape_formats(rng)]
    lines += [f"{stamp}.{100 + j:03d}Z ERROR [checkout] upstream rejected {t}" for j, t in enumerate(shaped)]
    picked = rng.sample([c for c in secrets(seed=rng.randint(1, 99)) if "\n" not in c[1]], 60)
    lines += [f"{stamp}.{200 + k:03d}Z ERROR [checkout] auth failure detail: {t}" for k, (_, t, _) in enumerate(picked)]
    pieces = [p for t in shaped for p in t.split(":")[-1].split(".")]
    return lines, key + pieces + [s for _, _, s in picked]


def test_incident_prompt_shows_no_secret_from_the_logs(cli, tmp_path: Path) -> None:
    ex = build_example(tmp_path / "ex")
    log = Path(ex.logs[0])
    lines = log.read_text(encoding="utf-8").splitlines()
    at = next(i for i, line in enumerate(lines) if line[:24] >= "2026-11-21T14:33:00.000Z")
    seeded, values = _seeded_lines(random.Random(3), "2026-11-21T14:33:00")
    lines[at:at] = seeded
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    inc = tmp_path / "inc"
    code, out, err = cli("triage", "--non-interactive", "--json", "--engine", "offline", "--incidents-dir", str(inc),
                         "--service", ex.service, "--symptom", ex.symptom, "--repo", str(ex.repo), "--deploys",
                         str(ex.deploys), "--deploys-format", ex.deploys_format, "--now", ex.now.isoformat(), "--logs", str(log))
    assert code == EXIT_OK, err
    iid = json.loads(out)["incident_id"]
    shown = []
    for phase in PHASES:
        for extra in ([], ["--json"]):
            code, out, err = cli("prompt", iid, phase, "--incidents-dir", str(inc), *extra)
            assert code == EXIT_OK, err
            shown.append(out)
    samples = (inc / iid / "evidence" / "error-samples.log").read_text(encoding="utf-8")
    assert _leaked(values, "\n".join(shown)) == []
    assert _leaked(values, samples) == []
    # Nothing else in the incident folder keeps them either: it gets shared and committed.
    for f in sorted((inc / iid).rglob("*")):
        if f.is_file():
            assert _leaked(values, f.read_text(encoding="utf-8", errors="replace")) == [], f.name
    # The seeded records did reach the evidence (redacted) and the prompts (as masked templates).
    assert "[REDACTED:" in samples and all("auth failure detail" in s for s in shown)
    events = [json.loads(x) for x in (inc / iid / "events.jsonl").read_text(encoding="utf-8").splitlines()]
    rendered = [e["payload"] for e in events if e["type"] == "prompt.rendered"]
    assert len(rendered) == len(PHASES) and all("redactions" in p for p in rendered)


def test_claude_engine_with_the_real_log_tools_sends_no_piece_of_a_key(fake_anthropic: FakeAnthropic, tmp_path: Path) -> None:
    from incident.tools import default_tools

    rng = random.Random(11)
    lines, values = [], []
    for minute in range(30, 36):
        seeded, vals = _seeded_lines(rng, f"2026-11-21T14:{minute:02d}:00")
        lines += seeded + [f"2026-11-21T14:{minute:02d}:30.000Z INFO [checkout] request_id={rnd(rng, URLSAFE, 21)} ok"]
        values += vals
    log = tmp_path / "logs" / "app.log"
    log.parent.mkdir()
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    box = Toolbox(ToolContext(roots=Roots.of(tmp_path), log_paths=[str(log)], service="checkout", clock=lambda: NOW),
                  default_tools())
    fake_anthropic.script(
        # Hits that show a key's lines without its BEGIN (and, with context, with its END).
        tool_calls(("search_logs", {"pattern": "ERROR \\[checkout\\] [A-Za-z0-9+/]{4,}", "max_hits": 200, "context": 2}),
                   ("error_timeline", {"since": "2h"})),
        tool_calls(("search_logs", {"pattern": "rejected|END", "max_hits": 200, "context": 5})),
        text(answer_json(ASSESS)),
    )
    engine = ClaudeEngine(model="claude-sonnet-5-5", api_key=FAKE_KEY, base_url=fake_anthropic.base_url,
                          budget_seconds=5, tool_budget_chars=200_000)
    ans = engine.run_phase(PHASES["assess"], brief(), "Assess.", box)
    assert [t["status"] for t in ans.transcript] == ["ok", "ok", "ok"], ans.transcript
    wire = fake_anthropic.wire_text()
    assert "ERROR [checkout]" in wire and "[REDACTED:private_key]" in wire
    assert _leaked(values, wire) == []
    assert _leaked(values, "\n".join(json.dumps(r.body) for r in fake_anthropic.requests)) == []


def test_log_patterns_templates_keep_no_tail_of_a_password(tmp_path: Path) -> None:
    from incident.tools.logtools import TOOLS

    log = tmp_path / "app.log"
    log.write_text("".join(f"2026-11-21T14:3{i}:00Z ERROR [checkout] retry: curl -u admin:gS0hb_%LRIbc^D https://x\n"
                           for i in range(3)), encoding="utf-8")
    box = Toolbox(ToolContext(roots=Roots.of(tmp_path), log_paths=[str(log)], service="checkout", clock=lambda: NOW), TOOLS)
    res = box.run("log_patterns", {"since": "2h", "level": "any"})
    assert res.status == "ok" and "curl -u" in res.text
    assert "LRIbc" not in res.text and res.redactions >= 1
