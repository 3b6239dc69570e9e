"""A binary file named as a log is refused with a reason; text logs with a stray NUL, a NUL hole,
invalid UTF-8, another encoding or control characters are still read."""

from __future__ import annotations

import gzip
import io
import json
import random
import struct
import zipfile
import zlib
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from incident.cli import app
from incident.tools.base import Roots, Toolbox, ToolContext
from incident.tools.logscan import expand_paths
from incident.tools.logtools import TOOLS
from logs_fixtures import NOW, incident_lines, log4j

runner = CliRunner()
LOG = ("\n".join(incident_lines(log4j, start=NOW - timedelta(minutes=30), incident=None)) + "\n").encode()


def _png(rng: random.Random) -> bytes:
    ihdr = struct.pack(">IIBBBBB", 64, 64, 8, 2, 0, 0, 0)
    idat = zlib.compress(rng.randbytes(12288), 1)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + b"IHDR" + ihdr + b"\0\0\0\0" + struct.pack(">I", len(idat)) + b"IDAT" + idat


def _elf(rng: random.Random) -> bytes:
    header = b"\x7fELF\x02\x01\x01" + b"\0" * 9 + struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0x401000, 64, 0, 0, 64, 56, 2, 64, 0, 0)
    code = b"".join(struct.pack("<IQ", rng.randrange(1 << 8), rng.randrange(1 << 20)) for _ in range(1200))
    return header + code


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("app.log", LOG)
    return buf.getvalue()


def _binaries() -> dict[str, bytes]:
    rng = random.Random(3)
    return {
        "image.png": _png(rng),
        "server": _elf(rng),
        "logs.zip": _zip(),
        "noise.log": rng.randbytes(20000),
        "image.png.gz": gzip.compress(_png(rng)),
        "app.log.zst": b"\x28\xb5\x2f\xfd" + rng.randbytes(4000),
        "system.journal": b"LPKSHHRH" + b"\0" * 200 + rng.randbytes(4000),
    }


def _texts() -> dict[str, bytes]:
    nul_hole = b"\0" * 20000 + LOG  # copytruncate with a writer that did not open with O_APPEND
    stray_nul = LOG[:5000] + b"\0" + LOG[5000:]
    latin1 = LOG.replace(b"request ok", "requête ok".encode("latin-1"))
    gbk = LOG.replace(b"request ok", "请求成功".encode("gbk"))
    fix = b"".join(b"2026-11-21T14:40:00Z 8=FIX.4.2\x019=65\x0135=A\x0149=SERVER\x0156=CLIENT\x0134=177\x01\n" for _ in range(200))
    ansi = LOG.replace(b" ERROR ", b" \x1b[31mERROR\x1b[0m ")
    return {"hole.log": nul_hole, "stray.log": stray_nul, "latin1.log": latin1, "gbk.log": gbk, "fix.log": fix,
            "ansi.log": ansi, "app.log.1.gz": gzip.compress(LOG), "empty.log": b""}


def _write(d: Path, files: dict[str, bytes]) -> None:
    d.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (d / name).write_bytes(data)


def test_binary_files_are_refused_with_a_reason_and_text_logs_are_read(tmp_path: Path) -> None:
    _write(tmp_path / "bin", _binaries())
    _write(tmp_path / "txt", _texts())
    roots = Roots.of(tmp_path)
    files, notes = expand_paths([str(p) for p in sorted((tmp_path / "bin").iterdir())], roots)
    assert files == []
    refused = {Path(n.path).name: n for n in notes}
    assert set(refused) == set(_binaries())
    assert all(n.refused and n.kind == "logs" for n in notes)
    assert "binary file, not a log" in refused["image.png"].reason and "PNG" in refused["image.png"].reason
    assert "binary file, not a log" in refused["noise.log"].reason
    assert "binary file, not a log" in refused["image.png.gz"].reason
    assert "zstd" in refused["app.log.zst"].reason and "zstd -d" in refused["app.log.zst"].hint
    assert "journalctl" in refused["system.journal"].hint
    files, notes = expand_paths([str(tmp_path / "txt")], roots)
    assert notes == [] and sorted(p.name for p in files) == sorted(_texts())


def test_utf16_logs_are_refused_with_how_to_convert_them(tmp_path: Path) -> None:
    for name, data in {"bom.log": b"\xff\xfe" + LOG.decode().encode("utf-16-le"), "nobom.log": LOG.decode().encode("utf-16-le")}.items():
        (tmp_path / name).write_bytes(data)
        files, notes = expand_paths([str(tmp_path / name)], Roots.of(tmp_path))
        assert files == [] and "UTF-16" in notes[0].reason and "iconv" in notes[0].hint


def test_cli_refuses_a_binary_log_and_reads_the_rest(tmp_path: Path) -> None:
    _write(tmp_path, {"image.png": _binaries()["image.png"], "app.log": LOG})
    r = runner.invoke(app, ["logs", "timeline", str(tmp_path / "image.png"), "--json", "--now", "2026-11-21T15:00:00Z"])
    assert r.exit_code == 3 and "binary file, not a log" in json.loads(r.stdout)["error"]["message"]
    r = runner.invoke(app, ["logs", "timeline", str(tmp_path / "image.png"), str(tmp_path / "app.log"), "--json", "--now", "2026-11-21T15:00:00Z"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["timeline"]["total_lines"] > 0 and doc["timeline"]["lines_without_time"] == 0
    assert [s["reason"] for s in doc["sources"]] == ["binary file, not a log (PNG image)"]


@pytest.mark.parametrize("tool", ["search_logs", "error_timeline", "log_patterns"])
def test_tools_report_a_binary_log_as_refused(tmp_path: Path, tool: str) -> None:
    _write(tmp_path, {"server": _binaries()["server"]})
    ctx = ToolContext(roots=Roots.of(tmp_path), log_paths=[str(tmp_path / "server")], service="x", clock=lambda: NOW)
    args = {"pattern": "x"} if tool == "search_logs" else {}
    res = Toolbox(ctx, TOOLS).run(tool, args)
    assert res.status == "no_data" and "binary file, not a log (ELF executable)" in res.text
