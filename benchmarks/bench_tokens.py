"""Input tokens per phase and per triage with the Claude engine, on a scenario with a large log.

    python benchmarks/bench_tokens.py [--size-mb 1024 [64 ...]] [--keep]

Builds the bundled example incident, grows its service log to the given size with a day of
background traffic before the incident (noise errors and a few secrets included), then runs
`incident triage --engine claude --json` as a subprocess against the loopback fake of the
Messages API (tests/fake_anthropic.py), scripted like a model that reads with up to two tools
per phase and then answers. Every request the fake recorded is measured.

Token counts are ESTIMATES: characters / 4 of the JSON sent (the fake's count_tokens uses the
same rule). Target: the evidence a phase receives (its prompt plus its tool results) stays under
8k tokens whatever the log size. Exits 1 if a phase is over.

Measured on the 2-core dev machine (2026-11-22): 1 GiB log -> at most 5.5k evidence tokens in a
phase, 65k input tokens per triage (12.5k of them read from cache), about $0.14 at
claude-sonnet-5-5 prices; a 1 MiB log -> 5.1k and 61k. Generating the 1 GiB log takes ~70 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE.parent / "tests"))

from claude_fixtures import model_like  # noqa: E402
from fake_anthropic import FakeAnthropic, estimate_tokens  # noqa: E402
from incident.scenario import build_example  # noqa: E402

TARGET = 8_000
PHASES = ["classify", "assess", "contain", "diagnose", "fix", "verify", "review"]


def grow_log(path: Path, size_mb: int, end) -> None:  # type: ignore[no-untyped-def]
    """Prepend a day of background traffic so the file reaches `size_mb`; the incident stays last."""
    original = path.read_bytes()
    target = (size_mb << 20) - len(original)
    if target <= 0:
        return
    rnd = random.Random(7)
    lines_needed = target // 120
    start = end - timedelta(hours=24)
    step = timedelta(hours=23).total_seconds() / max(1, lines_needed)
    msgs = [
        "INFO  [checkout] method=GET path=/api/products status=200 duration_ms={ms} request_id={rid}",
        "INFO  [checkout] method=GET path=/api/cart status=200 duration_ms={ms} request_id={rid}",
        "INFO  [checkout] method=POST path=/api/checkout status=200 duration_ms={ms} request_id={rid}",
        "DEBUG [checkout] cache hit key=session:{rid} ttl={ms}",
        "WARN  [checkout] retrying inventory call attempt=2 after {ms}ms request_id={rid}",
    ]
    noise = [
        "ERROR [checkout] payment gateway timeout after {ms}ms request_id={rid}",
        "ERROR [checkout] db connect failed dsn=postgres://app:{pw}@db/orders",
        "ERROR [checkout] upstream 401 Authorization: Bearer {tok}",
    ]
    tmp = path.with_suffix(".grow")
    t = start.timestamp()
    written = 0
    with open(tmp, "w", encoding="utf-8") as f:
        while written < target:
            buf = []
            for _ in range(20_000):
                t += step
                stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"
                tpl = rnd.choice(noise) if rnd.random() < 0.01 else rnd.choice(msgs)
                buf.append(f"{stamp} " + tpl.format(
                    ms=rnd.randint(3, 900), rid=f"{rnd.getrandbits(48):012x}",
                    pw=f"Pw{rnd.getrandbits(40):x}", tok=f"tok{rnd.getrandbits(128):032x}",
                ))
            chunk = "\n".join(buf) + "\n"
            f.write(chunk)
            written += len(chunk)
        f.write(original.decode("utf-8"))
    os.replace(tmp, path)


def run_triage(ex, fake: FakeAnthropic, workdir: Path) -> tuple[dict, float]:  # type: ignore[no-untyped-def]
    env = dict(os.environ)
    env.update(ANTHROPIC_BASE_URL=fake.base_url, ANTHROPIC_API_KEY="fake-bench-key",
               ANTHROPIC_CONFIG_DIR=str(workdir / "anthropic-config"), NO_COLOR="1")
    for var in ("ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_LOG", "INCIDENT_ENGINE", "INCIDENT_MODEL"):
        env.pop(var, None)
    args = [sys.executable, "-m", "incident", "triage", "--non-interactive", "--json", "--engine", "claude",
            "--incidents-dir", str(workdir / "inc"), "--service", ex.service, "--symptom", ex.symptom,
            "--repo", str(ex.repo), "--deploys", str(ex.deploys), "--deploys-format", ex.deploys_format,
            "--now", ex.now.isoformat()]
    for lg in ex.logs:
        args += ["--logs", lg]
    t = time.monotonic()
    proc = subprocess.run(args, capture_output=True, text=True, env=env, cwd=workdir, timeout=3600)
    elapsed = time.monotonic() - t
    if proc.returncode != 0:
        raise SystemExit(f"triage failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout), elapsed


def phase_of(body: dict) -> str:
    first = body["messages"][0]["content"]
    text = first if isinstance(first, str) else " ".join(b.get("text", "") for b in first)
    m = re.search(r"## Phase: (\w+)", text)
    return m.group(1) if m else "?"


def measure(fake: FakeAnthropic) -> dict[str, dict[str, int]]:
    per: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for body in fake.bodies:
        row = per[phase_of(body)]
        row["requests"] += 1
        system = estimate_tokens(body.get("system", ""))
        tools = estimate_tokens(body.get("tools", [])) if body.get("tools") else 0
        msgs = estimate_tokens(body["messages"])
        row["input_tokens"] += system + tools + msgs
        row["largest_request"] = max(row["largest_request"], system + tools + msgs)
        row["prefix_tokens"] = system + tools
        first = body["messages"][0]["content"]
        row["prompt_tokens"] = estimate_tokens(first if isinstance(first, str) else first[0].get("text", ""))
        results = [b for m in body["messages"] if isinstance(m["content"], list) for b in m["content"]
                   if b.get("type") == "tool_result"]
        row["tool_result_tokens"] = max(row["tool_result_tokens"], sum(estimate_tokens(r["content"]) for r in results))
    for row in per.values():
        row["evidence_tokens"] = row["prompt_tokens"] + row["tool_result_tokens"]
    return per


def one(size_mb: int, keep: bool) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="bench-tokens-"))
    try:
        ex = build_example(workdir / "example")
        log = Path(sorted(__import__("glob").glob(ex.logs[0]))[0])
        t = time.monotonic()
        grow_log(log, size_mb, ex.now - timedelta(hours=1, minutes=40))
        grow_s = time.monotonic() - t
        fake = FakeAnthropic().start()
        fake.default = model_like
        try:
            doc, elapsed = run_triage(ex, fake, workdir)
        finally:
            fake.stop()
        per = measure(fake)
        engines = {p["phase"]: p["engine"] for p in doc["phases"]}
        print(f"\nlog {log.stat().st_size / 2**20:.0f} MiB (generated in {grow_s:.0f}s); triage {elapsed:.1f}s; "
              f"tokens are estimates (chars/4)")
        print(f"{'phase':<9} {'engine':<8} {'req':>3} {'prompt':>7} {'tool out':>8} {'evidence':>8} "
              f"{'prefix':>7} {'largest':>8} {'input sum':>9}  target<{TARGET}")
        total = 0
        for name in PHASES:
            r = per.get(name, {})
            total += r.get("input_tokens", 0)
            ok = "ok" if r.get("evidence_tokens", 0) < TARGET else "OVER"
            print(f"{name:<9} {engines.get(name, '?'):<8} {r.get('requests', 0):>3} {r.get('prompt_tokens', 0):>7} "
                  f"{r.get('tool_result_tokens', 0):>8} {r.get('evidence_tokens', 0):>8} {r.get('prefix_tokens', 0):>7} "
                  f"{r.get('largest_request', 0):>8} {r.get('input_tokens', 0):>9}  {ok}")
        events = (workdir / "inc" / doc["incident_id"] / "events.jsonl").read_text().splitlines()
        usage = [json.loads(e)["payload"]["usage"] for e in events if '"llm.usage"' in e]
        cost = sum(u.get("cost_usd", 0) for u in usage)
        cached = sum(u.get("cache_read_input_tokens", 0) for u in usage)
        print(f"triage: {total} input tokens over {sum(r['requests'] for r in per.values())} requests "
              f"({cached} read from cache), est. ${cost:.4f} at claude-sonnet-5-5 prices")
        return {"size_mb": size_mb, "triage_input_tokens": total, "est_cost_usd": round(cost, 4),
                "max_evidence_tokens": max(r["evidence_tokens"] for r in per.values()),
                "phases": {k: dict(v) for k, v in per.items()}}
    finally:
        if keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size-mb", type=int, nargs="+", default=[1024])
    ap.add_argument("--keep", action="store_true", help="keep the generated scenario and incident folder")
    a = ap.parse_args()
    results = [one(s, a.keep) for s in a.size_mb]
    print(json.dumps([{k: v for k, v in r.items() if k != "phases"} for r in results]))
    if any(r["max_evidence_tokens"] >= TARGET for r in results):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
