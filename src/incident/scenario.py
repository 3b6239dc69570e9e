"""Build a small, realistic incident on disk: a git repo, a deploy history and logs.

Used by `incident triage --example`, by the tests and by dry-run scenario checks. Everything is
derived from a `ScenarioSpec` and a seed, so the same spec always produces the same bytes.

The git repository is written object by object in Python (loose objects, refs and an index)
rather than by running `git commit`: the program only ever starts read-only processes, and
building the example must not be the exception. It also keeps a build to a few milliseconds.
"""

from __future__ import annotations

import gzip
import hashlib
import random
import struct
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Literal

from incident.scenario_deploys import DeployRow, write_deploys
from incident.scenario_stories import Story, app_lines

DeployFormat = Literal["jsonl", "csv", "helm", "argocd", "heroku", "github"]
_ENDPOINTS = (("GET /api/cart", 0.30), ("GET /api/products", 0.25), ("POST /api/checkout", 0.35), ("GET /health", 0.10))


@dataclass(frozen=True)
class DeploySpec:
    """One deploy, `at_minutes` relative to the onset (negative: before it)."""

    id: str
    at_minutes: float
    service: str = "checkout"
    status: Literal["succeeded", "failed"] = "succeeded"
    version: str | None = None
    files: dict[str, str] | None = None  # files the release's commit changes; None: a version bump; {}: none (a flag flip)
    message: str = ""
    rollback_to: str | None = None  # id of the earlier deploy this one restores


@dataclass(frozen=True)
class FailureSpec:
    """What the logs show from the onset: an in-code exception, or an external dependency failing."""

    kind: Literal["traceback", "external"] = "traceback"
    endpoint: str = "POST /api/checkout"
    file: str = "checkout/shipping.py"
    function: str = "quote"
    line: int = 42
    code: str = "zone = address.region"
    exception: str = "AttributeError: 'NoneType' object has no attribute 'region'"
    error_ratio: float = 0.30  # of all requests, from onset until recovery


@dataclass(frozen=True)
class ScenarioSpec:
    service: str = "checkout"
    symptom: str = "checkout returns 500s"
    onset: datetime = datetime(2026, 11, 21, 14, 32, tzinfo=UTC)
    now_minutes: float = 8  # `now` relative to the onset
    history_minutes: float = 90  # logs start this long before the onset
    deploys: tuple[DeploySpec, ...] = ()
    deploys_format: DeployFormat = "jsonl"
    failure: FailureSpec = field(default_factory=FailureSpec)
    recovered_minutes: float | None = None  # errors stop this long after the onset
    requests_per_minute: int = 60
    baseline_error_ratio: float = 0.002
    background_errors: bool = False  # a steady, pre-existing error stream plus an old short blip
    log_utc_offset_hours: float = 0
    rotated_gz: bool = False
    access_log: bool = False
    seed: int = 7
    story: Story | None = None  # another kind of incident (scenario_stories); `failure` is then unused


@dataclass
class ScenarioPaths:
    root: Path
    repo: Path
    deploys: Path
    deploys_format: str
    logs: list[str]
    service: str
    symptom: str
    now: datetime
    expected: dict[str, object] = field(default_factory=dict)


# ---------------------------------------------------------------- git, written by hand


class _GitWriter:
    """Just enough of git's on-disk format for a repository `git` and GitPython read normally."""

    def __init__(self, root: Path):
        self.root = root
        self.git = root / ".git"
        for d in ("objects", "refs/heads", "refs/tags", "info"):
            (self.git / d).mkdir(parents=True, exist_ok=True)
        (self.git / "HEAD").write_text("ref: refs/heads/main\n")
        (self.git / "config").write_text(
            "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n\tlogallrefupdates = true\n"
        )
        (self.git / "description").write_text("incident example repository\n")

    def _write(self, kind: str, body: bytes) -> str:
        raw = f"{kind} {len(body)}\0".encode() + body
        sha = hashlib.sha1(raw, usedforsecurity=False).hexdigest()
        path = self.git / "objects" / sha[:2] / sha[2:]
        if not path.exists():
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(zlib.compress(raw))
        return sha

    def blob(self, data: bytes) -> str:
        return self._write("blob", data)

    def tree(self, files: dict[str, str]) -> str:
        """A tree (recursively) for a flat {path: blob sha} map."""
        here: dict[str, str] = {}
        subdirs: dict[str, dict[str, str]] = {}
        for path, sha in files.items():
            head, _, rest = path.partition("/")
            if rest:
                subdirs.setdefault(head, {})[rest] = sha
            else:
                here[head] = sha
        entries = [(name, b"100644", sha) for name, sha in here.items()]
        entries += [(name, b"40000", self.tree(sub)) for name, sub in subdirs.items()]
        # git sorts tree entries as if directory names ended with "/".
        entries.sort(key=lambda e: e[0] + ("/" if e[1] == b"40000" else ""))
        body = b"".join(mode + b" " + name.encode() + b"\0" + bytes.fromhex(sha) for name, mode, sha in entries)
        return self._write("tree", body)

    def commit(self, tree: str, parent: str | None, message: str, author: str, when: datetime) -> str:
        stamp = f"{int(when.timestamp())} +0000"
        lines = [f"tree {tree}"] + ([f"parent {parent}"] if parent else [])
        lines += [f"author {author} {stamp}", f"committer {author} {stamp}", "", message.rstrip() + "\n"]
        return self._write("commit", "\n".join(lines).encode())

    def ref(self, name: str, sha: str) -> None:
        path = self.git / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sha + "\n")

    def checkout(self, files: dict[str, bytes]) -> None:
        """Write the working tree and an index that matches it, so `git status` is clean."""
        entries = []
        for path in sorted(files):
            target = self.root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(files[path])
            st = target.stat()
            sha = hashlib.sha1(f"blob {len(files[path])}\0".encode() + files[path], usedforsecurity=False).digest()
            name = path.encode()
            entry = struct.pack(
                ">10I20sH", int(st.st_ctime), 0, int(st.st_mtime), 0, st.st_dev & 0xFFFFFFFF,
                st.st_ino & 0xFFFFFFFF, 0o100644, st.st_uid, st.st_gid, st.st_size & 0xFFFFFFFF,
                sha, min(len(name), 0xFFF),
            ) + name
            entry += b"\0" * (8 - len(entry) % 8)  # 1..8 NULs pad each entry to a multiple of 8
            entries.append(entry)
        data = b"DIRC" + struct.pack(">II", 2, len(entries)) + b"".join(entries)
        (self.git / "index").write_bytes(data + hashlib.sha1(data, usedforsecurity=False).digest())


_BASE_FILES = {
    "README.md": "# shop\n\nCheckout, payments and catalogue services.\n",
    "checkout/__init__.py": '__version__ = "1.0.0"\n',
    "checkout/api.py": (
        "from checkout import cart, shipping\n\n\n"
        "def post_checkout(request):\n    c = cart.load(request.user)\n"
        "    quote = shipping.quote(c, request.address)\n    return {\"total\": c.total + quote}\n"
    ),
    "checkout/cart.py": "def load(user):\n    return user.cart\n",
    "checkout/shipping.py": (
        "RATES = {\"eu\": 4.5, \"us\": 6.0}\n\n\n"
        "def quote(cart, address):\n    return RATES.get(address.region, 9.0)\n"
    ),
    "payments/__init__.py": '__version__ = "1.0.0"\n',
    "payments/client.py": "def charge(amount):\n    return gateway.post('/charge', amount)\n",
    "tests/test_cart.py": "def test_load():\n    assert True\n",
}


def _build_repo(repo: Path, spec: ScenarioSpec) -> dict[str, str]:
    """Write the repository; return {deploy id: commit sha}."""
    git = _GitWriter(repo)
    contents = {p: t.encode() for p, t in _BASE_FILES.items()}
    author = "Dev Example <dev@example.com>"
    head = git.commit(git.tree({p: git.blob(b) for p, b in contents.items()}), None, "Initial import", author,
                      spec.onset - timedelta(days=30))
    shas: dict[str, str] = {}
    for d in sorted(spec.deploys, key=lambda d: d.at_minutes):
        if d.rollback_to is not None and d.rollback_to in shas:
            shas[d.id] = shas[d.rollback_to]
            continue
        if d.files is not None and not d.files:
            shas[d.id] = head  # the same artifact again: a flag or config flip the deploy log records
            continue
        changed = dict(d.files or {})
        if not changed:
            changed[f"{d.service}/__init__.py"] = f'__version__ = "{d.version or d.id}"\n'
        for path, text in changed.items():
            contents[path] = text.encode()
        when = spec.onset + timedelta(minutes=d.at_minutes - 25)
        message = d.message or f"Release {d.service} {d.version or d.id}"
        head = git.commit(git.tree({p: git.blob(b) for p, b in contents.items()}), head, message, author, when)
        shas[d.id] = head
        if d.version:
            git.ref(f"refs/tags/{d.service}-v{d.version}", head)
    git.ref("refs/heads/main", head)
    git.checkout(contents)
    return shas


# ---------------------------------------------------------------- logs


def _traceback(f: FailureSpec) -> list[str]:
    if f.kind == "external":
        return [
            "Traceback (most recent call last):",
            '  File "/app/payments/client.py", line 2, in charge',
            "    return gateway.post('/charge', amount)",
            '  File "/usr/lib/python3.11/site-packages/httpx/_client.py", line 1574, in post',
            "    raise ReadTimeout(message, request=request)",
            f.exception,
        ]
    return [
        "Traceback (most recent call last):",
        '  File "/app/checkout/api.py", line 6, in post_checkout',
        "    quote = shipping.quote(c, request.address)",
        f'  File "/app/{f.file}", line {f.line}, in {f.function}',
        f"    {f.code}",
        f.exception,
    ]


def stamp(at: datetime, offset_hours: float) -> str:
    local = at.astimezone(timezone(timedelta(hours=offset_hours)))
    text = local.isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def _records(spec: ScenarioSpec, now: datetime) -> list[tuple[datetime, str, int, list[str]]]:
    """(time, endpoint, status, extra lines) for every request, in time order."""
    rng = random.Random(spec.seed)
    f = spec.failure
    share = dict(_ENDPOINTS)[f.endpoint] if f.endpoint in dict(_ENDPOINTS) else 0.35
    p_fail = min(1.0, f.error_ratio / share)
    start = spec.onset - timedelta(minutes=spec.history_minutes)
    end_fail = spec.onset + timedelta(minutes=spec.recovered_minutes) if spec.recovered_minutes is not None else now
    blip = (spec.onset - timedelta(minutes=50), spec.onset - timedelta(minutes=48))
    out: list[tuple[datetime, str, int, list[str]]] = []
    minute = start
    while minute < now:
        for _ in range(spec.requests_per_minute):
            at = minute + timedelta(seconds=rng.random() * 60)
            if at >= now:
                continue
            endpoint = rng.choices([e for e, _ in _ENDPOINTS], [w for _, w in _ENDPOINTS])[0]
            status, extra = 200, []
            if endpoint == f.endpoint and spec.onset <= at < end_fail and rng.random() < p_fail:
                status, extra = (504 if f.kind == "external" else 500), _traceback(f)
            elif spec.background_errors and endpoint == "GET /api/products" and (
                rng.random() < 0.08 or blip[0] <= at < blip[1]
            ):
                status, extra = 503, ["!recommendations backend timed out after 250ms"]
            elif rng.random() < spec.baseline_error_ratio:
                status, extra = 502, ["!upstream inventory connection reset by peer"]
            out.append((at, endpoint, status, extra))
        minute += timedelta(minutes=1)
    out.sort(key=lambda r: r[0])
    return out


def _app_lines(spec: ScenarioSpec, records: list[tuple[datetime, str, int, list[str]]]) -> list[tuple[datetime, str]]:
    rng = random.Random(spec.seed + 1)
    out = []
    for at, endpoint, status, extra in records:
        rid = f"{rng.getrandbits(48):012x}"
        ms = rng.randint(4, 60) if status < 500 else rng.randint(30, 3000)
        method, path = endpoint.split(" ", 1)
        head = (f"{stamp(at, spec.log_utc_offset_hours)} {{}} [{spec.service}] method={method} path={path} status={status} "
                f"duration_ms={ms} request_id={rid}")
        if status < 500:
            out.append((at, head.format("INFO ")))
        elif extra and extra[0].startswith("!"):
            out.append((at, head.format("ERROR") + " " + extra[0][1:]))
        else:
            out.append((at, "\n".join([head.format("ERROR") + " unhandled exception", *extra])))
    return out


def _access_lines(spec: ScenarioSpec, records: list[tuple[datetime, str, int, list[str]]]) -> list[str]:
    rng = random.Random(spec.seed + 2)
    tz = timezone(timedelta(hours=spec.log_utc_offset_hours))
    sign = "-" if spec.log_utc_offset_hours < 0 else "+"
    off = abs(int(spec.log_utc_offset_hours * 60))
    zone = f"{sign}{off // 60:02d}{off % 60:02d}"
    lines = []
    for at, endpoint, status, _ in records:
        method, path = endpoint.split(" ", 1)
        local = at.astimezone(tz).strftime("%d/%b/%Y:%H:%M:%S")
        ip = f"10.0.{rng.randint(0, 9)}.{rng.randint(1, 254)}"
        lines.append(f'{ip} - - [{local} {zone}] "{method} {path} HTTP/1.1" {status} {rng.randint(200, 4000)} "-" "shop-web/3.2"')
    return lines


def _write_logs(spec: ScenarioSpec, logs: Path, now: datetime) -> list[str]:
    logs.mkdir(parents=True, exist_ok=True)
    records = [] if spec.story else _records(spec, now)
    app = app_lines(spec, now) if spec.story else _app_lines(spec, records)
    specs: list[str] = []
    if spec.rotated_gz:
        # Rotation cuts through the incident: the baseline and the onset sit in compressed files.
        cuts = [spec.onset - timedelta(minutes=40), spec.onset + timedelta(minutes=1)]
        parts: list[list[str]] = [[], [], []]
        for at, text in app:
            parts[sum(at >= c for c in cuts)].append(text)
        with gzip.open(logs / "app.log.2.gz", "wt", encoding="utf-8") as g:
            g.write("\n".join(parts[0]) + "\n")
        with gzip.open(logs / "app.log.1.gz", "wt", encoding="utf-8") as g:
            g.write("\n".join(parts[1]) + "\n")
        (logs / "app.log").write_text("\n".join(parts[2]) + "\n", encoding="utf-8")
        specs.append(str(logs / "app.log*"))
    else:
        (logs / "app.log").write_text("\n".join(t for _, t in app) + "\n", encoding="utf-8")
        specs.append(str(logs / "app.log"))
    if spec.access_log and records:
        (logs / "access.log").write_text("\n".join(_access_lines(spec, records)) + "\n", encoding="utf-8")
        specs.append(str(logs / "access.log"))
    return specs


# ---------------------------------------------------------------- the whole scenario


def build_scenario(root: Path, spec: ScenarioSpec) -> ScenarioPaths:
    """Create `root/repo`, `root/deploys/…` and `root/logs/…` for `spec`; return where they are."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    now = spec.onset + timedelta(minutes=spec.now_minutes)
    shas = _build_repo(root / "repo", spec)
    rows = [
        DeployRow(
            id=d.id, service=d.service, at=spec.onset + timedelta(minutes=d.at_minutes), status=d.status,
            version=d.version, sha=shas.get(d.id), description=d.message, rollback_to=d.rollback_to,
        )
        for d in sorted(spec.deploys, key=lambda d: d.at_minutes)
    ]
    deploys = write_deploys(root / "deploys", rows, spec.deploys_format, service=spec.service, now=now)
    logs = _write_logs(spec, root / "logs", now)
    return ScenarioPaths(
        root=root, repo=root / "repo", deploys=deploys, deploys_format=spec.deploys_format, logs=logs,
        service=spec.service, symptom=spec.symptom, now=now, expected={"onset": spec.onset, "shas": shas},
    )


EXAMPLE_SHIPPING = (
    "RATES = {\"eu\": 4.5, \"us\": 6.0}\n\n\n"
    "def quote(cart, address):\n"
    "    # Express shipping: addresses may now come from the saved-address service.\n"
    "    address = cart.saved_address or address\n"
    "    zone = address.region\n"
    "    return RATES.get(zone, 9.0) + (5.0 if cart.express else 0.0)\n"
)


def example_spec() -> ScenarioSpec:
    """The bundled example: a helm release of checkout whose rev 6 broke shipping quotes."""
    return ScenarioSpec(
        service="checkout",
        symptom="checkout is returning 500 errors",
        now_minutes=8,
        deploys_format="helm",
        deploys=(
            DeploySpec("1", -60 * 24 * 6, version="1.4.0"),
            DeploySpec("2", -60 * 24 * 4, version="1.4.1"),
            DeploySpec("3", -60 * 24 * 2, version="1.5.0"),
            DeploySpec("4", -60 * 26, version="1.5.1", files={"checkout/cart.py": "def load(user):\n    return user.cart or []\n"},
                       message="Handle users without a cart"),
            DeploySpec("5", -45, version="1.6.0", status="failed", message="Add express shipping (chart values typo)"),
            DeploySpec("6", -2, version="1.6.1", files={"checkout/shipping.py": EXAMPLE_SHIPPING},
                       message="Add express shipping quotes"),
        ),
        failure=FailureSpec(line=7),
    )


def build_example(root: Path) -> ScenarioPaths:
    """Build the bundled example incident under `root` (a temporary directory is fine)."""
    paths = build_scenario(root, example_spec())
    paths.expected.update(
        suspect_id="6", rollback_target_id="4", classification="active", suspect_service="checkout",
        implicated_file="checkout/shipping.py",
    )
    return paths
