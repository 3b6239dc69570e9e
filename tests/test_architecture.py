"""The import direction the design promises, checked by walking every module's imports."""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "incident"


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def modules():
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC).with_suffix("")
        yield ".".join(("incident", *rel.parts)), path


def test_only_the_cli_layer_imports_typer():
    offenders = [m for m, p in modules() if any(i.split(".")[0] == "typer" for i in imports(p))
                 and not (m == "incident.cli" or m.startswith("incident.commands"))]
    assert offenders == []


def test_only_render_imports_rich():
    offenders = [m for m, p in modules() if any(i.split(".")[0] == "rich" for i in imports(p)) and not m.startswith("incident.render")]
    assert offenders == []


def test_only_the_claude_engine_imports_anthropic():
    offenders = [m for m, p in modules() if any(i.split(".")[0] == "anthropic" for i in imports(p)) and m != "incident.engines.claude"]
    assert offenders == []


def test_tools_never_import_engines_session_or_cli():
    bad = ("incident.engines", "incident.session", "incident.cli", "incident.commands", "incident.render")
    offenders = [(m, i) for m, p in modules() if m.startswith("incident.tools") for i in imports(p) if i.startswith(bad)]
    assert offenders == []


def test_core_never_imports_the_cli_layer():
    offenders = [(m, i) for m, p in modules()
                 if not (m == "incident.cli" or m.startswith(("incident.commands", "incident.__main__")))
                 for i in imports(p) if i.startswith(("incident.cli", "incident.commands"))]
    assert offenders == []
