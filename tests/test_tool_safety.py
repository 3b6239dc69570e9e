"""The toolbox is the safety boundary: hostile arguments to every tool read nothing outside the
roots, write nothing anywhere, and start no process but git/rg from a fixed argv list."""

from __future__ import annotations

import ast
import importlib
import json
import os
import pkgutil
import secrets
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.git_fixtures import T0, commit, git, init

import incident
import incident.tools
from incident.clock import frozen_clock
from incident.tools.base import Roots, Tool, Toolbox, ToolContext

SRC = Path(incident.__file__).parent


def all_tools() -> list[Tool[Any]]:
    """Every tool any importable module of incident.tools declares; a module still being written
    elsewhere (import error) is left out rather than failing this suite."""
    found: dict[str, Tool[Any]] = {}
    for info in pkgutil.iter_modules(incident.tools.__path__):
        try:
            mod = importlib.import_module(f"incident.tools.{info.name}")
            tools = getattr(mod, "TOOLS", [])
        except Exception:  # noqa: BLE001 - a half-written module of another area must not break this suite
            continue
        for t in tools if isinstance(tools, list) else []:
            if isinstance(t, Tool):
                found.setdefault(t.name, t)
    try:
        for t in incident.tools.default_tools():
            found.setdefault(t.name, t)
    except Exception:  # noqa: BLE001, S110 - same: default_tools imports every area's module
        pass
    return list(found.values())


def tree(*roots: Path) -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            for name in dirnames + filenames:
                p = Path(dirpath) / name
                st = p.lstat()
                out[str(p)] = (st.st_size, st.st_mtime_ns)
            out[dirpath] = (0, Path(dirpath).lstat().st_mtime_ns)
    return out


@pytest.fixture()
def world(tmp_path: Path) -> dict[str, Any]:
    """A read root with a repo, logs and deploys; a canary outside it; links that point out."""
    outside = tmp_path / "outside"
    outside.mkdir()
    canary = f"CANARY-{secrets.token_hex(8)}"
    secret = outside / "secret.log"
    secret.write_text(f"2026-11-21T13:59:00Z ERROR {canary}\n" + json.dumps({"at": "2026-11-21T13:00:00Z", "id": canary}) + "\n")
    root = tmp_path / "root"
    repo = init(root / "repo")
    commit(repo, "first", {"app.py": "x = 1\n"}, T0 - timedelta(minutes=30))
    commit(repo, "second", {"app.py": "x = 2\n"}, T0 - timedelta(minutes=10))
    git(repo, "tag", "v1")
    git(repo, "config", "core.fsmonitor", f"touch {tmp_path}/fsmonitor-ran")
    (root / "logs").mkdir()
    (root / "logs" / "app.log").write_text("2026-11-21T13:58:00Z INFO ok\n2026-11-21T13:59:00Z ERROR boom timeout\n")
    os.symlink(secret, root / "logs" / "evil.log")
    os.symlink(outside, root / "logs" / "outdir")
    (root / "deploys.jsonl").write_text(json.dumps({"at": "2026-11-21T13:50:00Z", "service": "api", "id": "d1"}) + "\n")
    os.symlink(secret, root / "deploys-link.jsonl")
    ctx = ToolContext(
        roots=Roots.of(root),
        repo=repo,
        deploy_paths=[str(root / "deploys.jsonl"), str(root / "deploys-link.jsonl")],
        log_paths=[str(root / "logs" / "*.log"), str(root / "logs" / "evil.log")],
        service="api",
        clock=frozen_clock(T0),
    )
    return {"tmp": tmp_path, "root": root, "outside": outside, "secret": secret, "canary": canary, "ctx": ctx}


def hostile_values(w: dict[str, Any]) -> list[str]:
    tmp, secret = w["tmp"], w["secret"]
    return [
        f"--output={tmp}/pwned-output",
        "-p",
        "--exec=touch pwned",
        "../../etc/passwd",
        "../outside/secret.log",
        "../../outside/secret.log",
        str(secret),
        str(w["root"] / "logs" / "evil.log"),
        str(w["root"] / "logs" / "outdir" / "secret.log"),
        "/etc/passwd",
        "$(id)",
        "`id`",
        ";rm -rf /",
        "| cat /etc/passwd",
        f"HEAD; touch {tmp}/pwned-semicolon",
        "A" * 20_000,
        "x\x00y",
        "\n--output=/tmp/x",
        "{{7*7}}",
        "*",
        ":/second",
        "HEAD..HEAD~1",
        "--since=1970-01-01",
    ]


def _string_fields(tool: Tool[Any]) -> Iterator[tuple[str, bool]]:
    """(field, is_list) for every field a model could fill with text."""
    schema = tool.args_model.model_json_schema()
    for name, prop in schema.get("properties", {}).items():
        kinds = [prop] + prop.get("anyOf", [])
        if any(k.get("type") == "string" for k in kinds):
            yield name, False
        elif any(k.get("type") == "array" and k.get("items", {}).get("type") == "string" for k in kinds):
            yield name, True


def hostile_calls(tools: list[Tool[Any]], values: list[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    for tool in tools:
        fields = list(_string_fields(tool))
        for v in values:
            everything = {f: ([v] if is_list else v) for f, is_list in fields}
            yield tool.name, everything
            for f, is_list in fields:
                yield tool.name, {f: [v] if is_list else v}


def test_every_tool_is_covered() -> None:
    names = {t.name for t in all_tools()}
    assert {"recent_commits", "show_commit", "commits_between", "list_tags", "deploy_history"} <= names
    for t in all_tools():
        assert list(_string_fields(t)) or t.args_model.model_fields == {}, t.name


def test_hostile_arguments_read_nothing_outside_and_write_nothing(world: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    tools = all_tools()
    box = Toolbox(world["ctx"], tools)
    # Warm up imports (GitPython checks `git version` once) before taking the snapshot.
    for t in tools:
        box.run(t.name, {})
    before = tree(world["tmp"])
    tmp_x_existed = Path("/tmp/x").exists()
    started: list[tuple[Any, Any]] = []
    real_init = subprocess.Popen.__init__

    def spy(self: subprocess.Popen[Any], args: Any, *a: Any, **kw: Any) -> None:
        started.append((args, kw.get("shell", False)))
        real_init(self, args, *a, **kw)

    monkeypatch.setattr(subprocess.Popen, "__init__", spy)
    from incident.tools import git_reader

    git_reader.close_readers()  # the long-lived reader starts again under the spy
    calls = 0
    for name, args in hostile_calls(tools, hostile_values(world)):
        res = box.run(name, args)
        calls += 1
        blob = res.text + json.dumps(res.model_dump(mode="json"), default=str)
        assert world["canary"] not in blob, (name, args)
        assert "uid=" not in blob and "root:x:0:0" not in blob, (name, args)
        assert res.status in ("ok", "error", "no_data")
        assert len(res.text) <= world["ctx"].max_chars + 200, (name, len(res.text))
    assert calls > 100
    assert started, "no git/rg process ran: the spy saw nothing"
    assert any(list(argv[-2:]) == ["cat-file", "--batch"] for argv, _ in started), "the git reader was not seen starting"
    for argv, shell in started:
        assert isinstance(argv, (list, tuple)) and not shell, argv
        assert Path(str(argv[0])).name in ("git", "rg"), argv
    assert tree(world["tmp"]) == before
    assert not list(world["tmp"].glob("pwned*")) and not (world["tmp"] / "fsmonitor-ran").exists()
    assert Path("/tmp/x").exists() == tmp_x_existed


def test_links_out_of_the_roots_are_reported_not_followed(world: dict[str, Any]) -> None:
    box = Toolbox(world["ctx"], all_tools())
    res = box.run("deploy_history", {"since": "1d"})
    assert res.status == "ok" and world["canary"] not in res.text
    assert "deploys-link.jsonl" in res.text and "outside the configured read roots" in res.text


FORBIDDEN_CALLS = {
    ("os", "system"), ("os", "popen"), ("os", "execv"), ("os", "execve"), ("os", "execvp"), ("os", "execvpe"), ("os", "execl"),
    ("os", "execlp"), ("os", "spawnl"), ("os", "spawnv"), ("os", "spawnvp"), ("os", "posix_spawn"), ("os", "posix_spawnp"),
    ("subprocess", "getoutput"), ("subprocess", "getstatusoutput"), ("pty", "spawn"), ("asyncio", "create_subprocess_shell"),
}  # fmt: skip


def _violations(path: Path) -> Iterator[str]:
    tree_ = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree_):
        if not isinstance(node, ast.Call):
            continue
        for kw in node.keywords:
            if kw.arg == "shell" and not (isinstance(kw.value, ast.Constant) and kw.value.value in (False, None)):
                yield f"{path}:{node.lineno}: shell={ast.unparse(kw.value)}"
        f = node.func
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and (f.value.id, f.attr) in FORBIDDEN_CALLS:
            yield f"{path}:{node.lineno}: {f.value.id}.{f.attr}"
        if isinstance(f, ast.Name) and f.id in {"system", "popen", "getoutput", "getstatusoutput"}:
            yield f"{path}:{node.lineno}: {f.id}() (imported from os/subprocess?)"
    for node in ast.walk(tree_):
        if isinstance(node, ast.ImportFrom) and node.module in ("os", "subprocess", "pty"):
            for alias in node.names:
                if (node.module, alias.name) in FORBIDDEN_CALLS:
                    yield f"{path}:{node.lineno}: from {node.module} import {alias.name}"


def test_source_has_no_shell_or_string_command_execution() -> None:
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 10
    problems = [v for p in files for v in _violations(p)]
    assert problems == []


def test_the_scanner_catches_what_it_looks_for(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import os, subprocess\nfrom os import system\nsubprocess.run('ls', shell=True)\nos.system('x')\nos.popen('x')\n"
        "subprocess.getoutput('x')\nsubprocess.Popen(['a'], shell=flag)\n"
    )
    found = list(_violations(bad))
    assert len(found) == 6, found


def test_control_the_canary_is_visible_once_its_directory_is_a_root(world: dict[str, Any]) -> None:
    # Proves the canary check above can fail: the same links, with `outside` allowed, do show it.
    ctx = world["ctx"]
    ctx.roots = Roots.of(world["root"], world["outside"])
    res = Toolbox(ctx, all_tools()).run("deploy_history", {"since": "1d"})
    assert world["canary"] in res.text
