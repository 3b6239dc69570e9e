from pathlib import Path

import pytest

from incident.config import find_config, incidents_dir, load_settings
from incident.errors import ConfigError


def write(p: Path, text: str) -> Path:
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def test_found_by_walking_up_and_paths_relative_to_the_file(tmp_path):
    cfg = write(tmp_path / "repo" / ".incident.yaml", "incidents_dir: inc\nservices:\n  - name: checkout\n    logs: logs/*.log\n    deploys: deploys.jsonl\n")
    deep = tmp_path / "repo" / "a" / "b"
    deep.mkdir(parents=True)
    assert find_config(deep) == cfg
    s = load_settings(cwd=deep, env={})
    assert incidents_dir(s) == tmp_path / "repo" / "inc"
    svc = s.service("checkout")
    assert svc is not None and svc.logs == ["logs/*.log"] and svc.deploys[0].path == "deploys.jsonl"
    assert s.resolve("logs/*.log") == tmp_path / "repo" / "logs/*.log"


def test_precedence_defaults_file_env_flags(tmp_path):
    write(tmp_path / ".incident.yaml", "model: from-file\nengine: offline\n")
    s = load_settings(cwd=tmp_path, env={})
    assert (s.model, s.engine, s.max_steps) == ("from-file", "offline", 8)
    s = load_settings(cwd=tmp_path, env={"INCIDENT_MODEL": "from-env"})
    assert s.model == "from-env"
    s = load_settings(cwd=tmp_path, env={"INCIDENT_MODEL": "from-env"}, overrides={"model": "from-flag", "engine": None})
    assert (s.model, s.engine) == ("from-flag", "offline")


def test_each_bad_field_gets_a_line_naming_file_and_key(tmp_path):
    cfg = write(tmp_path / ".incident.yaml", "engine: gpt\nmax_steps: 0\nservices:\n  - name: a\n    colour: red\n")
    with pytest.raises(ConfigError) as e:
        load_settings(cwd=tmp_path, env={})
    lines = e.value.message.splitlines()
    assert len(lines) == 3
    assert all(line.startswith(str(cfg)) for line in lines)
    assert any(": engine:" in line for line in lines)
    assert any(": max_steps:" in line for line in lines)
    assert any("services.0.colour" in line for line in lines)
    assert e.value.exit_code == 2


def test_bad_yaml_names_line_and_column(tmp_path):
    write(tmp_path / ".incident.yaml", "services: [\n  - name: a\n")
    with pytest.raises(ConfigError, match=r"\.incident\.yaml:\d+:\d+: not valid YAML"):
        load_settings(cwd=tmp_path, env={})


def test_top_level_must_be_a_mapping(tmp_path):
    write(tmp_path / ".incident.yaml", "- a\n- b\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_settings(cwd=tmp_path, env={})
