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
