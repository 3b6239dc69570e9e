"""No secret crosses the wire: every recorded request body is inspected."""

from __future__ import annotations

import json
import random

from claude_fixtures import ASSESS, NOW, FakeTools, answer_json, brief
from fake_anthropic import FAKE_KEY, FakeAnthropic, fake_anthropic_fixture, text, tool_calls  # noqa: F401
from incident.engines.claude import ClaudeEngine
from incident.phases import PHASES
from incident.tools.base import Roots, Toolbox, ToolContext
from redaction_corpus import rnd, secrets, token_formats


def engine(fake: FakeAnthropic) -> ClaudeEngine:
    return ClaudeEngine(model="claude-sonnet-5-5", api_key=FAKE_KEY, base_url=fake.base_url, budget_seconds=5)


def assert_never_sent(fake: FakeAnthropic, values: list[str]) -> None:
    wire = fake.wire_text()
    raw = "\n".join(json.dumps(r.body, ensure_ascii=False) for r in fake.requests)
    # Checked in the JSON as sent and unescaped: a key with `/` or `"` must not slip through either way.
    leaked = [v for v in values if v in wire or v in raw or json.dumps(v)[1:-1] in wire]
    assert leaked == []


def test_secrets_in_the_prompt_tool_output_and_tool_input_never_cross_the_wire(fake_anthropic):
    cases = list(secrets(seed=21))
    log_lines = "\n".join(t for _, t, _ in cases[:200])
    prompt_lines = "\n".join(t for _, t, _ in cases[200:])
    rng = random.Random(4)
    echoed = token_formats(rng)[0][1]  # as if the model put a key in a tool's arguments
    tools = FakeTools(outputs={"search_logs": log_lines, "error_timeline": prompt_lines})
    fake_anthropic.script(
        tool_calls(("search_logs", {"pattern": "auth"}), ("error_timeline", {"since": echoed})),
        tool_calls(("search_logs", {"pattern": f"token={echoed}"})),
        text(answer_json(ASSESS)),
    )
    ans = engine(fake_anthropic).run_phase(PHASES["assess"], brief(), "Evidence:\n" + prompt_lines, tools.toolbox())
    assert len(fake_anthropic.bodies) == 3
    assert_never_sent(fake_anthropic, [s for _, _, s in cases] + [echoed])
    assert "[REDACTED:" in fake_anthropic.wire_text()
    assert ans.usage.redactions >= len(cases)
    # The journal's copy of the tool calls is redacted too.
    assert echoed not in json.dumps(ans.transcript)


def test_redactions_are_counted_once_per_secret_not_once_per_request(fake_anthropic):
    tools = FakeTools(outputs={"search_logs": "login failed password=hunter2hunter2"})
    fake_anthropic.script(
        tool_calls(("search_logs", {"pattern": "a"})), tool_calls(("error_timeline", {})), text(answer_json(ASSESS)),
    )
    ans = engine(fake_anthropic).run_phase(PHASES["assess"], brief(), "api_key=abcd1234abcd", tools.toolbox())
    assert ans.usage.redactions == 2
    assert "hunter2hunter2" not in fake_anthropic.wire_text()


def test_real_tools_on_a_log_full_of_secrets(fake_anthropic, tmp_path):
    from incident.tools import default_tools

    rng = random.Random(8)
    seeded = list(secrets(seed=33))
    lines = []
    for i, (_, ctx, _) in enumerate(seeded):
        for j, part in enumerate(ctx.splitlines() or [""]):
            lines.append(f"2026-11-21T14:{30 + (i % 25):02d}:{j % 60:02d}Z ERROR checkout {part}")
        lines.append(f"2026-11-21T14:{30 + (i % 25):02d}:30Z INFO request_id={rnd(rng, '0123456789abcdef', 32)} ok")
    log = tmp_path / "logs" / "app.log"
    log.parent.mkdir()
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ctx = ToolContext(roots=Roots.of(tmp_path), log_paths=[str(log)], service="checkout", clock=lambda: NOW)
    box = Toolbox(ctx, default_tools())
    fake_anthropic.script(
        tool_calls(
            ("search_logs", {"pattern": "ERROR", "max_hits": 200, "context": 2}),
            ("error_timeline", {"since": "2h"}),
            ("log_patterns", {"since": "2h", "limit": 50}),
        ),
        tool_calls(("search_logs", {"pattern": "Authorization|password|BEGIN", "max_hits": 200, "context": 5})),
        text(answer_json(ASSESS)),
    )
    ans = engine(fake_anthropic).run_phase(PHASES["assess"], brief(), "Assess.", box)
    statuses = [t["status"] for t in ans.transcript]
    assert statuses.count("ok") == 4, ans.transcript
    results = [b for b in fake_anthropic.bodies[1]["messages"][-1]["content"] if b["type"] == "tool_result"]
    assert any("ERROR checkout" in r["content"] for r in results)  # the tools really read the log
    assert_never_sent(fake_anthropic, [s for _, _, s in seeded])
    assert ans.usage.redactions > 0
