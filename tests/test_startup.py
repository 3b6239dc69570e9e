"""`incident --help` and `incident note` must not pay for anthropic, git, jinja2, yaml or the scanners."""

import json
import subprocess
import sys

HEAVY = ["anthropic", "git", "jinja2", "yaml", "incident.tools.logs", "incident.tools.patterns", "incident.tools.timeline", "httpx2"]

PROBE = """
import sys, json
sys.argv = ["incident", *json.loads(sys.argv[1])]
from incident.cli import main
try:
    main()
except SystemExit:
    pass
print("MODULES:" + json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {"anthropic", "git", "jinja2", "yaml", "httpx2"} or m.startswith("incident.tools."))))
"""


def loaded(args, cwd):
    out = subprocess.run([sys.executable, "-c", PROBE, json.dumps(args)], capture_output=True, text=True, cwd=cwd, timeout=60).stdout
    return json.loads(out.rsplit("MODULES:", 1)[1])


def test_help_imports_nothing_heavy(tmp_path):
    mods = loaded(["--help"], tmp_path)
    assert not [m for m in mods if m.split(".")[0] in HEAVY or m in HEAVY], mods


def test_note_imports_nothing_heavy(tmp_path):
    subprocess.run([sys.executable, "-m", "incident", "new", "x", "--incidents-dir", str(tmp_path / "i")], check=True, capture_output=True)
    mods = loaded(["note", "x", "hello", "--incidents-dir", str(tmp_path / "i")], tmp_path)
    assert not [m for m in mods if m.split(".")[0] in HEAVY or m in HEAVY], mods
