"""Log toolbox benchmark: ratios against ripgrep and drain3 measured in the same run.

    python benchmarks/bench_logs.py [--size-mb 1024] [--gz-mb 256]

Generates (once) a log of the given size under benchmarks/.data/ and prints, for each check,
the ratio to its reference and the target. Absolute times depend on the machine; the ratios are
what the README quotes. Runs take a few minutes at 1 GB.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data" / "logs"
sys.path.insert(0, str(HERE.parent / "src"))

from incident.tools import logscan  # noqa: E402
from incident.tools.timeline import candidate_pattern, error_timeline  # noqa: E402

START = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
SPAN_H = 24


# ---------------------------------------------------------------- data


def generate(path: Path, size_mb: int) -> None:
    """A log4j-style service log: ~1.5% ERROR in the background, traces on some, an incident
    (ERROR x10) in the last 3 hours. Written in 4 MB blocks so generation stays quick."""
    rnd = random.Random(42)
    target = size_mb << 20
    est_lines = target // 150
    step = SPAN_H * 3600 / est_lines
    msgs = [
        "INFO  [http-nio-8080-exec-{t}] com.shop.api.OrderController - GET /api/orders/{n} 200 {ms}ms user={u}",
        "INFO  [http-nio-8080-exec-{t}] com.shop.api.CartController - POST /api/cart 201 {ms}ms items={t}",
        "DEBUG [pool-3-thread-{t}] com.shop.cache.Redis - hit key=session:{u} ttl={ms}",
        "INFO  [kafka-consumer-{t}] com.shop.events.Consumer - committed offset {n} partition {t}",
        "WARN  [http-nio-8080-exec-{t}] com.shop.api.Retry - retrying call to inventory attempt={t} after {ms}ms",
    ]
    err = "ERROR [http-nio-8080-exec-{t}] com.shop.pay.Gateway - charge failed order={n} reason=timeout after {ms}ms"
    trace = "\njava.net.SocketTimeoutException: Read timed out\n\tat java.base/java.net.SocketInputStream.read(SocketInputStream.java:183)\n\tat com.shop.pay.Gateway.charge(Gateway.java:88)\n\t... 42 more"
    incident_at = SPAN_H * 3600 - 3 * 3600
    written = 0
    t = 0.0
    base = START.timestamp()
    minute_cache: dict[int, str] = {}
    with open(path, "w", encoding="utf-8") as f:
        while written < target:
            buf = []
            for _ in range(20000):
                t += step
                sec = int(t)
                m = sec // 60
                head = minute_cache.get(m)
                if head is None:
                    minute_cache.clear()
                    head = minute_cache[m] = datetime.fromtimestamp(base + m * 60, UTC).strftime("%Y-%m-%d %H:%M")
                ts = f"{head}:{sec % 60:02d},{int((t - sec) * 1000):03d} "
                r = rnd.random()
                vals = {"t": rnd.randint(1, 200), "n": rnd.randint(1, 10**9), "ms": rnd.randint(1, 3000), "u": rnd.randint(1, 10**6)}
                p_err = 0.015 if t < incident_at else 0.15
                if r < p_err:
                    line = ts + err.format(**vals) + (trace if r < p_err / 5 else "")
                else:
                    line = ts + msgs[int(r * 997) % len(msgs)].format(**vals)
                buf.append(line)
            chunk = "\n".join(buf) + "\n"
            f.write(chunk)
            written += len(chunk)


def ensure(size_mb: int, gz_mb: int) -> tuple[Path, Path]:
    DATA.mkdir(parents=True, exist_ok=True)
    plain = DATA / f"app-{size_mb}mb.log"
    if not plain.exists():
        print(f"generating {plain} ...", flush=True)
        generate(plain, size_mb)
    gz = DATA / f"app-{gz_mb}mb.log.gz"
    if not gz.exists():
        small = DATA / f"app-{gz_mb}mb.log"
        if not small.exists():
            generate(small, gz_mb)
        print(f"compressing {gz} ...", flush=True)
        with open(small, "rb") as src, gzip.open(gz, "wb", compresslevel=6) as dst:
            while block := src.read(8 << 20):
                dst.write(block)
    return plain, gz


# ---------------------------------------------------------------- timing


def best(fn, runs: int = 3) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def rg(*args: str) -> None:
    subprocess.run([logscan.find_rg() or "rg", "--no-config", *args], stdout=subprocess.DEVNULL, check=False)


def row(name: str, ratio: float, target: str, ok: bool, ours: float | None = None, ref: float | None = None) -> None:
    times = f"  ({ours:.2f}s vs {ref:.2f}s)" if ours is not None and ref is not None else ""
    print(f"  {name:<58} {ratio:>7.2f}x   target {target:<8} {'ok' if ok else 'MISSED'}{times}", flush=True)


def file_end(path: Path) -> datetime:
    """The generated logs run a little past their nominal span: `now` is just after the last line."""
    with open(path, "rb") as f:
        f.seek(max(0, path.stat().st_size - 4096))
        last = f.read().rstrip(b"\n").rsplit(b"\n", 1)[-1]
    return datetime.strptime(last[:19].decode(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC) + timedelta(seconds=1)


def bench_timeline(plain: Path, gz: Path, now: datetime) -> None:
    pattern = candidate_pattern(logscan.sample(plain))
    print(f"timeline (pattern for rg: {pattern[:60]}...)")
    # Warm the page cache so both sides read from memory.
    rg("-c", "zzzz-warm", str(plain))
    t_rg = best(lambda: rg("-c", "-e", pattern, str(plain)))
    t_err = best(lambda: error_timeline([plain], since=None, until=None, now=now, totals=False))
    t_tot = best(lambda: error_timeline([plain], since=None, until=None, now=now))
    row("errors/min vs rg -c", t_err / t_rg, "<= 3", t_err <= 3 * t_rg, t_err, t_rg)
    row("errors + per-minute totals vs rg -c", t_tot / t_rg, "<= 15", t_tot <= 15 * t_rg, t_tot, t_rg)
    since = now - timedelta(hours=2)
    t_win = best(lambda: error_timeline([plain], since=since, until=None, now=now))
    row("--since 2h (bisected) vs whole-file timeline", t_win / t_tot, "< 1", t_win < t_tot, t_win, t_tot)
    t_rgz = best(lambda: rg("-z", "-c", "-e", pattern, str(gz)), runs=2)
    t_gz = best(lambda: error_timeline([gz], since=None, until=None, now=now, totals=False), runs=2)
    t_gzt = best(lambda: error_timeline([gz], since=None, until=None, now=now), runs=2)
    row(".gz errors/min vs rg -z -c", t_gz / t_rgz, "<= 1", t_gz <= t_rgz, t_gz, t_rgz)
    row(".gz errors + totals vs rg -z -c", t_gzt / t_rgz, "<= 1", t_gzt <= t_rgz, t_gzt, t_rgz)


def bench_search(plain: Path, now: datetime) -> None:
    from incident.tools.logs import search

    print("search (no rg: the pure-Python fallback)")
    for label, pat, literal in (("rare literal", "order=123456789 ", True), ("regex led by a literal", r"charge failed order=12345\d{4} ", False)):
        t_rg = best(lambda p=pat, lit=literal: rg("-n", *(["-F"] if lit else []), "-e", p, str(plain)))
        t_py = best(lambda p=pat, lit=literal: search([plain], p, literal=lit, now=now, use_rg=False))
        t_ours = best(lambda p=pat, lit=literal: search([plain], p, literal=lit, now=now))
        row(f"python search vs rg -n ({label})", t_py / t_rg, "<= 8", t_py <= 8 * t_rg)
        row(f"search() with rg vs rg -n ({label})", t_ours / t_rg, "-", True)
    row_note = "rg 14 on (ERROR|WARN).*timeout vs on timeout"
    t_a = best(lambda: rg("-c", "-e", "(ERROR|WARN).*timeout", str(plain)))
    t_b = best(lambda: rg("-c", "-e", "timeout", str(plain)))
    row(row_note + " (why regexes lead with a literal)", t_a / t_b, "-", True)


def bench_gather() -> None:
    """evidence.gather on a busy scenario (2000 requests/min, 90 min of history before the onset:
    25 MB, ~225k lines), step by step: the log steps must not read every line in Python."""
    from incident.clock import frozen_clock
    from incident.evidence import gather
    from incident.scenario import DeploySpec, ScenarioSpec, build_scenario
    from incident.tools.base import Roots, ToolContext
    from incident.tools.endpoints import endpoint_stats
    from incident.tools.patterns import mine_patterns

    root = DATA.parent / "scenario-2000rpm"
    spec = ScenarioSpec(requests_per_minute=2000, history_minutes=90, background_errors=True,
                        deploys=(DeploySpec("41", -60 * 50, version="2.3.0"), DeploySpec("42", -3, version="2.4.0")))
    if not (root / "logs" / "app.log").exists():
        print(f"generating {root} ...", flush=True)
        build_scenario(root, spec)
    now = spec.onset + timedelta(minutes=spec.now_minutes)
    log = root / "logs" / "app.log"
    lines = sum(chunk.count(b"\n") for _, chunk in logscan.iter_chunks(log))
    ctx = ToolContext(roots=Roots.of(root), repo=root / "repo", deploy_paths=[str(root / "deploys" / "deploys.jsonl")],
                      log_paths=[str(log)], service="checkout", clock=frozen_clock(now))
    steps: dict[str, float] = {}
    mark = [time.perf_counter(), ""]

    def progress(label: str, done: int, total: int) -> None:
        if label != mark[1]:
            t = time.perf_counter()
            if mark[1]:
                steps[str(mark[1])] = steps.get(str(mark[1]), 0.0) + t - float(mark[0])
            mark[0], mark[1] = t, label

    t0 = time.perf_counter()
    ev = gather(ctx, service="checkout", started=None, now=now, progress=progress)
    total = time.perf_counter() - t0
    print(f"evidence.gather ({log.stat().st_size >> 20} MiB, {lines} lines; onset {ev.timeline.onset if ev.timeline else None})")
    print(f"  {'whole gather':<58} {total:>7.2f}s  " + ", ".join(f"{k} {v:.2f}s" for k, v in steps.items() if v >= 0.01))
    for level in ("error", "any"):
        dt = best(lambda lv=level: mine_patterns([log], since=now - timedelta(hours=6), until=now, now=now, level=lv), runs=2)  # type: ignore[misc]
        print(f"  {'mine_patterns whole window, level=' + level:<58} {lines / dt / 1000:>7.0f}k lines/s", flush=True)
    dt = best(lambda: endpoint_stats([log], since=None, until=None, now=now), runs=2)
    print(f"  {'endpoint_stats whole file':<58} {lines / dt / 1000:>7.0f}k lines/s", flush=True)


def peak_private_memory(plain: Path, now: datetime) -> None:
    code = (
        "import sys, threading, time\n"
        f"sys.path.insert(0, {str(HERE.parent / 'src')!r})\n"
        "from datetime import datetime\nfrom pathlib import Path\n"
        "from incident.tools.timeline import error_timeline\n"
        "peak = [0]\n"
        "def anon():\n"
        "    for ln in open('/proc/self/status'):\n"
        "        if ln.startswith('RssAnon:'): return int(ln.split()[1]) * 1024\n"
        "    return 0\n"
        "def watch():\n"
        "    while True:\n"
        "        peak[0] = max(peak[0], anon()); time.sleep(0.005)\n"
        "threading.Thread(target=watch, daemon=True).start()\n"
        f"error_timeline([Path({str(plain)!r})], since=None, until=None, now=datetime.fromisoformat({now.isoformat()!r}))\n"
        "peak[0] = max(peak[0], anon())\n"
        "print(peak[0])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    mib = int(out.strip()) / (1 << 20)
    print("memory")
    print(f"  {'peak private (RssAnon) of a timeline over the whole file':<58} {mib:>7.1f} MiB target < 64  {'ok' if mib < 64 else 'MISSED'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--gz-mb", type=int, default=256)
    ap.add_argument("--skip", action="append", default=[], choices=["timeline", "search", "patterns", "gather", "memory"])
    a = ap.parse_args()
    plain, gz = ensure(a.size_mb, min(a.gz_mb, a.size_mb))
    now = file_end(plain)
    print(f"file {plain.name} ({plain.stat().st_size >> 20} MiB), gz {gz.name} ({gz.stat().st_size >> 20} MiB); rg {logscan.find_rg()}")
    if "timeline" not in a.skip:
        bench_timeline(plain, gz, now)
    if "search" not in a.skip:
        bench_search(plain, now)
    if "patterns" not in a.skip:
        from bench_patterns import bench_patterns  # type: ignore[import-not-found]  # sibling script

        bench_patterns(plain, now)
    if "gather" not in a.skip:
        bench_gather()
    if "memory" not in a.skip:
        peak_private_memory(plain, now)
    print(json.dumps({"size_mb": a.size_mb}))


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
