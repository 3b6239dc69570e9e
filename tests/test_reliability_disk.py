"""Disk faults: a full disk, a read-only incidents dir, a journal edited by hand.

Each gives one `error:` line naming the file, the named exit code, and loses no earlier event.
The full and read-only disks are real: a tiny tmpfs and a read-only bind mount, made inside a
private mount namespace (`unshare -m`) that vanishes with the command, so nothing leaks onto
the machine. Where namespaces are not allowed (not root), those tests are skipped with the reason
and the in-process ENOSPC test still covers the journal's path.
"""

from __future__ import annotations

import errno
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests.reliability_fixtures import (
    assert_clean_failure,
    cli_env,
    error_lines,
    incident_folders,
    read_back,
    run_cli,
)

from incident import journal as j
from incident.errors import EXIT_IO, EXIT_OK
from incident.journal import Journal
from incident.scenario import build_example


def _can_unshare() -> str | None:
    if not shutil.which("unshare"):
        return "no unshare(1)"
    p = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt && umount /mnt"],
                       capture_output=True, text=True)
    return None if p.returncode == 0 else f"cannot mount in a private namespace: {p.stderr.strip()[:120]}"


_NO_NS = _can_unshare()
needs_ns = pytest.mark.skipif(_NO_NS is not None, reason=str(_NO_NS))


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A triaged example incident (offline, pinned clock) to copy into each fault."""
    root = tmp_path_factory.mktemp("disk")
    ex = build_example(root / "example")
    args = ["triage", "--non-interactive", "--json", "--engine", "offline", "--incidents-dir", str(root / "inc"),
            "--service", ex.service, "--symptom", ex.symptom, "--repo", str(ex.repo), "--deploys", str(ex.deploys),
            "--deploys-format", ex.deploys_format, "--now", ex.now.isoformat(), *[a for lg in ex.logs for a in ("--logs", lg)]]
    run = run_cli(args, cwd=root)
    assert run.code == EXIT_OK, run.err
    (folder,) = incident_folders(root / "inc")
    return {"root": root, "inc": root / "inc", "id": folder.name, "ex": ex, "args": args, "now": ex.now.isoformat()}


def in_namespace(tmp: Path, template: Path, setup: str, cli_args: list[str]) -> tuple[int, str, str, Path]:
    """Run the CLI with `tmp/inc` mounted as `setup` says (a copy of `template` inside), and copy
    what the incidents dir holds afterwards to `tmp/after` for the test to inspect."""
    inc, after = tmp / "inc", tmp / "after"
    inc.mkdir()
    after.mkdir()
    q = shlex.quote
    cmd = " ".join(q(a) for a in [sys.executable, "-m", "incident", *cli_args])
    script = f"""set -e
{setup.format(inc=q(str(inc)), template=q(str(template)))}
set +e
{cmd} >{q(str(tmp / 'out'))} 2>{q(str(tmp / 'err'))}
echo $? >{q(str(tmp / 'rc'))}
rm -f {q(str(inc))}/.fill
cp -a {q(str(inc))}/. {q(str(after))}/
"""
    p = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c", script], env=cli_env(), cwd=tmp,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return int((tmp / "rc").read_text()), (tmp / "out").read_text(), (tmp / "err").read_text(), after


FULL = """mount -t tmpfs -o size={size} tmpfs {{inc}}
cp -a {{template}}/. {{inc}}/
avail=$(df -k --output=avail {{inc}} | tail -1)
dd if=/dev/zero of={{inc}}/.fill bs=1k count=$((avail - {leave})) 2>/dev/null || true
"""
READ_ONLY = """cp -a {template}/. {inc}/
mount --bind {inc} {inc}
mount -o remount,bind,ro {inc}
"""


def _events_bytes(folder: Path) -> bytes:
    return (folder / j.EVENTS_FILE).read_bytes()


def _one_error_naming(err: str, name: str) -> None:
    lines = error_lines(err)
    assert len(lines) == 1 and name in lines[0], err
    assert "Traceback" not in err and "internal error" not in err


@needs_ns
@pytest.mark.parametrize("leave_kb", [0, 24])
def test_full_disk_during_a_note_or_a_triage_loses_nothing(finished, tmp_path, leave_kb):
    before = _events_bytes(finished["inc"] / finished["id"])
    # Longer than a page, so the slack at the end of the journal's last page cannot hold it.
    note = "EU customers only; " * 300
    code, out, err, after = in_namespace(tmp_path, finished["inc"], FULL.format(size="2m", leave=leave_kb),
                                         ["note", finished["id"], note, "--incidents-dir", str(tmp_path / "inc")])
    if leave_kb == 0:
        assert code == EXIT_IO
        _one_error_naming(err, "events.jsonl")
        assert "disk full" in err
        assert _events_bytes(after / finished["id"]) == before
    else:
        assert code == EXIT_OK and _events_bytes(after / finished["id"]).startswith(before)
    # A new triage on the nearly full disk stops with exit 5 where the disk ran out.
    (tmp_path / "t").mkdir()
    args = [a if a != str(finished["inc"]) else str(tmp_path / "t" / "inc") for a in finished["args"]]
    code, out, err, after = in_namespace(tmp_path / "t", finished["inc"], FULL.format(size="2m", leave=leave_kb), args)
    assert code == EXIT_IO, (code, out, err)
    error = json.loads(out)["error"]  # --json: the error is JSON on stdout
    assert error["code"] == "storage" and str(tmp_path / "t" / "inc") in error["message"], error
    assert "Traceback" not in err + out
    assert _events_bytes(after / finished["id"]) == before  # the old incident is untouched
    new = [f for f in incident_folders(after) if f.name != finished["id"]]
    for folder in new:  # whatever was recorded reads back, and the triage resumes once there is room
        read_back(folder)
        run = run_cli(["triage", "--resume", folder.name, "--json", "--incidents-dir", str(after), "--now", finished["now"]], cwd=tmp_path)
        assert run.code == EXIT_OK, run.err
        assert len(json.loads(run.out)["phases"]) == 7


@needs_ns
def test_full_disk_during_a_postmortem_keeps_the_old_one(finished, tmp_path):
    template = tmp_path / "template"
    shutil.copytree(finished["inc"], template)
    first = run_cli(["postmortem", finished["id"], "--incidents-dir", str(template), "--now", finished["now"]], cwd=tmp_path)
    assert first.code == EXIT_OK, first.err
    old = (template / finished["id"] / "postmortem.md").read_bytes()
    before = _events_bytes(template / finished["id"])
    (tmp_path / "ns").mkdir()
    code, out, err, after = in_namespace(tmp_path / "ns", template, FULL.format(size="2m", leave=0),
                                         ["postmortem", finished["id"], "--incidents-dir", str(tmp_path / "ns" / "inc"), "--now", finished["now"]])
    assert code == EXIT_IO, (code, err)
    _one_error_naming(err, "postmortem.md")
    assert (after / finished["id"] / "postmortem.md").read_bytes() == old
    assert _events_bytes(after / finished["id"]) == before
    assert not list((after / finished["id"]).glob(".postmortem-*"))  # no temp file left behind


@needs_ns
@pytest.mark.parametrize("what", ["note", "triage", "resume", "postmortem", "comms", "mark"])
def test_read_only_incidents_dir(finished, tmp_path, what):
    inc = str(tmp_path / "inc")
    iid, now = finished["id"], finished["now"]
    args = {
        "note": ["note", iid, "text", "--incidents-dir", inc],
        "triage": [a if a != str(finished["inc"]) else inc for a in finished["args"]],
        "resume": ["triage", "--resume", iid, "--take-over", "--incidents-dir", inc, "--now", now],
        "postmortem": ["postmortem", iid, "--incidents-dir", inc, "--now", now],
        "comms": ["comms", iid, "--incidents-dir", inc, "--now", now],
        "mark": ["mark", iid, "mitigated", "--incidents-dir", inc, "--now", now],
    }[what]
    before = _events_bytes(finished["inc"] / iid)
    code, out, err, after = in_namespace(tmp_path, finished["inc"], READ_ONLY, args)
    assert code == EXIT_IO, (code, out[-500:], err)
    message = json.loads(out)["error"]["message"] if "--json" in args else "".join(error_lines(err))
    assert len(error_lines(err)) == (0 if "--json" in args else 1), err
    assert inc in message and "Read-only" in message, message
    assert "Traceback" not in err and "internal error" not in err
    assert _events_bytes(after / iid) == before


def test_enospc_in_process_names_the_file_and_keeps_every_event(cli, finished, tmp_path, monkeypatch):
    inc = tmp_path / "inc"
    shutil.copytree(finished["inc"], inc)
    before = _events_bytes(inc / finished["id"])
    real_write = os.write

    def full(fd, data):
        if os.readlink(f"/proc/self/fd/{fd}").startswith(str(inc)):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", full)
    code, out, err = cli("note", finished["id"], "EU customers only", "--incidents-dir", str(inc))
    assert code == EXIT_IO
    _one_error_naming(err, str(inc / finished["id"] / "events.jsonl"))
    code, out, err = cli("note", finished["id"], "again", "--json", "--incidents-dir", str(inc))
    assert code == EXIT_IO and json.loads(out)["error"]["code"] == "storage"
    monkeypatch.setattr(os, "write", real_write)
    assert _events_bytes(inc / finished["id"]) == before
    code, out, err = cli("note", finished["id"], "after space was freed", "--incidents-dir", str(inc))
    assert code == EXIT_OK
    assert Journal(inc / finished["id"]).events()[-1].payload["text"] == "after space was freed"


def _hand_edit(folder: Path, line_no: int, text: str) -> bytes:
    lines = _events_bytes(folder).splitlines(keepends=True)
    lines[line_no - 1] = text.encode()
    (folder / j.EVENTS_FILE).write_bytes(b"".join(lines))
    return b"".join(lines)


@pytest.mark.parametrize("edit", ["not json", "half", "wrong shape", "no created"])
def test_a_journal_edited_by_hand(cli, finished, tmp_path, edit):
    inc = tmp_path / "inc"
    shutil.copytree(finished["inc"], inc)
    folder = inc / finished["id"]
    lines = _events_bytes(folder).splitlines(keepends=True)
    if edit == "not json":
        edited = _hand_edit(folder, 3, '{"type": "note.added", "payload": {"text": "forgot a quote}}\n')
    elif edit == "half":
        edited = _hand_edit(folder, 3, lines[2].decode()[: len(lines[2]) // 2] + "\n")
    elif edit == "wrong shape":
        edited = _hand_edit(folder, 3, json.dumps({"at": "2026-11-21T14:40:00Z", "type": "llm.usage", "payload": {"usage": "lots"}}) + "\n")
    else:
        edited = b"".join(lines[1:])
        (folder / j.EVENTS_FILE).write_bytes(edited)
    iid, d = finished["id"], ["--incidents-dir", str(inc)]
    for args in (["show", iid, *d], ["postmortem", iid, *d], ["triage", "--resume", iid, *d], ["comms", iid, *d], ["status", iid, *d]):
        code, out, err = cli(*args)
        assert code == EXIT_IO, (args, code, err)
        _one_error_naming(err, str(folder / j.EVENTS_FILE))
    code, out, err = cli("list", *d)  # one broken journal does not hide the others
    assert code == EXIT_OK
    # A note is still recorded, and the hand-edited bytes are kept exactly.
    code, out, err = cli("note", iid, "noted while the journal is broken", *d)
    assert code == EXIT_OK, err
    assert _events_bytes(folder).startswith(edited)


def test_a_torn_or_hand_truncated_last_line_is_kept_aside_not_lost(cli, finished, tmp_path):
    inc = tmp_path / "inc"
    shutil.copytree(finished["inc"], inc)
    folder = inc / finished["id"]
    data = _events_bytes(folder)
    torn = data + b'{"schema_version":1,"at":"2026-11-21T14:41:00Z","type":"note.added","payload":{"text":"half a no'
    (folder / j.EVENTS_FILE).write_bytes(torn)
    code, out, err = cli("timeline", finished["id"], "--incidents-dir", str(inc))
    assert code == EXIT_OK and "torn last line" in err
    code, out, err = cli("note", finished["id"], "next", "--incidents-dir", str(inc))
    assert code == EXIT_OK
    events = read_back(folder).events
    assert events[-1].payload["text"] == "next" and len(events) == data.count(b"\n") + 1
    assert torn[len(data):] in (folder / j.TORN_FILE).read_bytes()


def test_clean_failure_helper_rejects_a_traceback():
    from tests.reliability_fixtures import Run

    with pytest.raises(AssertionError):
        assert_clean_failure(Run(1, "", "Traceback (most recent call last):", 0.0))
