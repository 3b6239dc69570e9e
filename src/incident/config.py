"""Settings: defaults < `.incident.yaml` < environment < flags.

`.incident.yaml` is found by walking up from the current directory (or given with --config).
Relative paths in it are relative to the file's own directory. A bad file gets one message per
bad field, naming the file and the key.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from incident.errors import ConfigError

CONFIG_NAME = ".incident.yaml"
DEFAULT_MODEL = "claude-sonnet-5-5"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DeploySource(_Strict):
    path: str
    format: str | None = None  # jsonl, csv, helm, argocd, heroku, github, flux, git-tags; None = detect


class ServiceConfig(_Strict):
    name: str
    repo: str | None = None
    logs: list[str] = Field(default_factory=list)
    deploys: list[DeploySource] = Field(default_factory=list)

    @field_validator("deploys", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        if isinstance(v, (str, dict)):
            v = [v]
        return [{"path": x} if isinstance(x, str) else x for x in (v or [])]

    @field_validator("logs", mode="before")
    @classmethod
    def _logs_list(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v


class Settings(_Strict):
    incidents_dir: str = ".incidents"
    engine: Literal["auto", "offline", "claude"] = "auto"
    model: str = DEFAULT_MODEL
    base_url: str | None = None
    max_steps: int = Field(default=8, ge=1, le=50)
    llm_budget_seconds: float = Field(default=60.0, gt=0)
    roots: list[str] = Field(default_factory=list)  # extra read roots beyond the repo and log dirs
    runbooks: list[str] = Field(default_factory=lambda: ["runbooks"])
    prompts_dir: str | None = None  # a team's own <phase>.md templates; the rest come bundled
    services: list[ServiceConfig] = Field(default_factory=list)
    comms_cadence_minutes: dict[str, int] = Field(default_factory=lambda: {"SEV-1": 15, "SEV-2": 30, "SEV-3": 60, "SEV-4": 240})
    runbook_stale_days: int = Field(default=180, ge=1)
    slo_target: float | None = Field(default=None, gt=0, lt=100)  # availability %, e.g. 99.9

    # Where the file was found; not a key users write.
    config_file: str | None = Field(default=None, exclude=True)

    def service(self, name: str | None) -> ServiceConfig | None:
        for s in self.services:
            if s.name == name:
                return s
        return self.services[0] if name is None and len(self.services) == 1 else None

    def base_dir(self) -> Path:
        return Path(self.config_file).parent if self.config_file else Path.cwd()

    def resolve(self, p: str) -> Path:
        """A path from config, relative to the config file's directory."""
        path = Path(os.path.expanduser(p))
        return path if path.is_absolute() else self.base_dir() / path


def find_config(start: Path) -> Path | None:
    here = start.resolve()
    for d in (here, *here.parents):
        candidate = d / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


def _format_errors(path: Path, e: ValidationError) -> str:
    lines = []
    for err in e.errors(include_url=False):
        key = ".".join(str(x) for x in err["loc"]) or "(top level)"
        lines.append(f"{path}: {key}: {err['msg']}")
    return "\n".join(lines)


def load_file(path: Path) -> dict[str, Any]:
    import yaml  # slow import: only when a config file exists

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read ({e})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigError(f"{path}{where}: not valid YAML ({problem})", "fix the YAML syntax") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys, not {type(data).__name__}")
    return data


ENV_KEYS = {
    "INCIDENT_HOME": "incidents_dir",
    "INCIDENT_ENGINE": "engine",
    "INCIDENT_MODEL": "model",
    "ANTHROPIC_BASE_URL": "base_url",
}


def load_settings(
    *,
    config: Path | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> Settings:
    """Merge defaults < file < environment < flags (`overrides`, None values ignored)."""
    env = dict(os.environ) if env is None else env
    path = config if config is not None else find_config(cwd or Path.cwd())
    data: dict[str, Any] = {}
    if path is not None:
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found", "check --config")
        data = load_file(path)
    for var, key in ENV_KEYS.items():
        if env.get(var):
            data[key] = env[var]
    for key, value in (overrides or {}).items():
        if value is not None:
            data[key] = value
    if data.get("incidents_dir") and (env.get("INCIDENT_HOME") or (overrides or {}).get("incidents_dir")):
        # From env or a flag: relative to where the operator is, not to the config file.
        data["incidents_dir"] = str(Path(os.path.expanduser(str(data["incidents_dir"]))).absolute())
    try:
        settings = Settings.model_validate(data)
    except ValidationError as e:
        raise ConfigError(_format_errors(path or Path("(environment/flags)"), e), "fix the keys above") from None
    settings.config_file = str(path.resolve()) if path else None
    return settings


def incidents_dir(settings: Settings) -> Path:
    # Flag/env values are relative to the current directory; a config value to the config file.
    p = Path(os.path.expanduser(settings.incidents_dir))
    if p.is_absolute():
        return p
    return settings.base_dir() / p if settings.config_file else Path.cwd() / p
