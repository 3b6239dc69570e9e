"""The walk's renderer: streamed model text stops where the JSON answer begins; data is inert."""

from incident.phases import PHASES
from incident.render.triage import PlainUI


def streamed(chunks: list[str], capsys) -> str:
    ui = PlainUI()
    ui.phase_started(PHASES["assess"], "claude")
    capsys.readouterr()
    for c in chunks:
        ui.stream_text(c)
    return capsys.readouterr().out


def test_stream_shows_reasoning_and_stops_at_the_json_answer(capsys):
    out = streamed(["Checking the deploys", " first.\n```js", 'on\n{"summary": "x"}\n```'], capsys)
    assert "Checking the deploys first." in out
    assert "summary" not in out and "```" not in out


def test_stream_of_a_bare_json_answer_shows_nothing(capsys):
    assert streamed(['{"summ', 'ary": "x"}'], capsys).strip() == ""


def test_streamed_escapes_are_neutralised(capsys):
    out = streamed(["evil \x1b]52;c;Y3VybCB4fHNo\x07 text"], capsys)
    assert "\x1b" not in out and "\\x1b]52" in out


def test_a_change_line_names_each_thing_once_and_marks_a_cut():
    from datetime import UTC, datetime

    from incident.models import ChangeRef
    from incident.render.triage import _change_line

    at = datetime(2026, 11, 21, 14, 30, tzinfo=UTC)
    deploy = ChangeRef(kind="deploy", id="6", service="checkout", at=at, minutes_before_onset=2.0,
                       summary="checkout 6 (1.6.1) [failed]: Upgrade complete")  # fmt: skip
    assert _change_line(deploy) == "  deploy checkout 6 (1.6.1) [failed] at 2026-11-21 14:30Z, 2 min before — Upgrade complete"
    long = ChangeRef(kind="commit", id="2b183f182c6b", at=at, summary="word " * 40 + "(Dev <dev@example.com>)")
    line = _change_line(long)
    assert line.endswith("…") and "word word" in line and len(line.split(" — ")[1]) <= 90
    assert _change_line(ChangeRef(kind="deploy", id="7", service=None, at=at, summary="deploy 7")).endswith("at 2026-11-21 14:30Z")
