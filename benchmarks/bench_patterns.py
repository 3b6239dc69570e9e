"""Pattern mining vs drain3 on Loghub-style samples with known templates (run by bench_logs.py,
or alone: python benchmarks/bench_patterns.py)."""

from __future__ import annotations

import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

from incident.tools.patterns import Miner, mine_patterns  # noqa: E402

R = random.Random(7)


def ip() -> str:
    return f"10.{R.randint(0, 255)}.{R.randint(0, 255)}.{R.randint(1, 254)}"


def blk() -> str:
    return f"blk_{R.choice(['', '-'])}{R.randint(10**17, 10**19)}"


def uuid() -> str:
    h = f"{R.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def name() -> str:
    return R.choice(["admin", "oracle", "test", "guest", "postgres", "ubuntu", "user1", "git", "pi", "ftpuser"])


# (dataset, [template makers]); each maker returns one line's content.
SAMPLES: dict[str, list[Callable[[], str]]] = {
    "HDFS": [
        lambda: f"PacketResponder {R.randint(0, 2)} for block {blk()} terminating",
        lambda: f"Receiving block {blk()} src: /{ip()}:{R.randint(1024, 65535)} dest: /{ip()}:50010",
        lambda: f"BLOCK* NameSystem.addStoredBlock: blockMap updated: {ip()}:50010 is added to {blk()} size {R.randint(1, 67108864)}",
        lambda: f"Received block {blk()} of size {R.randint(1, 67108864)} from /{ip()}",
        lambda: f"Verification succeeded for {blk()}",
        lambda: f"Deleting block {blk()} file /mnt/hadoop/dfs/data/current/subdir{R.randint(1, 60)}/{blk()}",
        lambda: f"BLOCK* NameSystem.allocateBlock: /user/root/rand/_temporary/_task_{R.randint(10**11, 10**12)}_m_{R.randint(0, 999):06d}_0/part-{R.randint(0, 999):05d}. {blk()}",
    ],
    "Apache": [
        lambda: "workerEnv.init() ok /etc/httpd/conf/workers2.properties",
        lambda: f"mod_jk child workerEnv in error state {R.randint(5, 9)}",
        lambda: f"jk2_init() Found child {R.randint(1000, 30000)} in scoreboard slot {R.randint(1, 12)}",
        lambda: f"[client {ip()}] Directory index forbidden by rule: /var/www/html/",
        lambda: f"Can't find child {R.randint(1000, 30000)} in scoreboard",
    ],
    "OpenSSH": [
        lambda: f"Invalid user {name()} from {ip()}",
        lambda: f"input_userauth_request: invalid user {name()} [preauth]",
        lambda: f"Failed password for invalid user {name()} from {ip()} port {R.randint(1024, 65535)} ssh2",
        lambda: f"Failed password for root from {ip()} port {R.randint(1024, 65535)} ssh2",
        lambda: f"pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost={ip()}  user=root",
        lambda: f"Received disconnect from {ip()}: 11: Bye Bye [preauth]",
        lambda: f"Connection closed by {ip()} [preauth]",
        lambda: "pam_unix(sshd:auth): check pass; user unknown",
    ],
    "Spark": [
        lambda: "Registered signal handlers for [TERM, HUP, INT]",
        lambda: f"Block broadcast_{R.randint(0, 99)} stored as values in memory (estimated size {R.randint(1, 999)}.{R.randint(0, 9)} KB, free {R.randint(1, 999)}.{R.randint(0, 9)} MB)",
        lambda: f"Running task {R.randint(0, 99)}.0 in stage {R.randint(0, 99)}.0 (TID {R.randint(0, 9999)})",
        lambda: f"Finished task {R.randint(0, 99)}.0 in stage {R.randint(0, 99)}.0 (TID {R.randint(0, 9999)}). {R.randint(100, 9999)} bytes result sent to driver",
        lambda: f"Started reading broadcast variable {R.randint(0, 99)}",
        lambda: f"Reading broadcast variable {R.randint(0, 99)} took {R.randint(1, 99)} ms",
    ],
    # Ids that are not just digits defeat the digit-free memo: every line takes the regex path.
    "Service": [
        lambda: f"request {uuid()} failed: upstream {R.choice(['pay', 'cart', 'auth'])}-svc returned {R.choice([500, 502, 503])}",
        lambda: f"trace={R.getrandbits(64):016x} span={R.getrandbits(32):08x} slow query took {R.randint(1, 9999)}ms",
        lambda: f"cache miss key=\"user:{uuid()}\" fallback to db",
        lambda: f"GET /api/orders/{uuid()} from {ip()} rejected: token expired",
    ],
}

DRAIN_MASKING = [
    (r"((?<=[^A-Za-z0-9])|^)(([0-9a-f]{2,}:){3,}([0-9a-f]{2,}))((?=[^A-Za-z0-9])|$)", "ID"),
    (r"((?<=[^A-Za-z0-9])|^)(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})((?=[^A-Za-z0-9])|$)", "IP"),
    (r"((?<=[^A-Za-z0-9])|^)([0-9a-f]{6,} ?){3,}((?=[^A-Za-z0-9])|$)", "SEQ"),
    (r"((?<=[^A-Za-z0-9])|^)([0-9A-F]{4} ?){4,}((?=[^A-Za-z0-9])|$)", "SEQ"),
    (r"((?<=[^A-Za-z0-9])|^)(0x[a-f0-9A-F]+)((?=[^A-Za-z0-9])|$)", "HEX"),
    (r"((?<=[^A-Za-z0-9])|^)([\-\+]?\d+)((?=[^A-Za-z0-9])|$)", "NUM"),
]


def sample(dataset: str, n: int) -> tuple[list[str], list[int]]:
    makers = SAMPLES[dataset]
    weights = [R.random() + 0.05 for _ in makers]
    truth = R.choices(range(len(makers)), weights=weights, k=n)
    return [makers[t]() for t in truth], truth


def grouping_accuracy(pred: list[int], truth: list[int]) -> float:
    """Loghub's GA: a line counts when its predicted group holds exactly its true group's lines."""
    by_pred: dict[int, set[int]] = defaultdict(set)
    by_true: dict[int, set[int]] = defaultdict(set)
    for i, (p, t) in enumerate(zip(pred, truth, strict=True)):
        by_pred[p].add(i)
        by_true[t].add(i)
    ok = sum(len(lines) for p, lines in by_pred.items() if lines == by_true[truth[next(iter(lines))]])
    return ok / len(pred)


def ours(lines: list[str]) -> list[int]:
    m = Miner()
    tids = [m.add(x.encode()) for x in lines]
    _, owner = m.merge()
    return [owner[t] for t in tids]


def drain(lines: list[str]) -> list[int]:
    from drain3 import TemplateMiner
    from drain3.masking import MaskingInstruction
    from drain3.template_miner_config import TemplateMinerConfig

    cfg = TemplateMinerConfig()
    cfg.masking_instructions = [MaskingInstruction(p, w) for p, w in DRAIN_MASKING]
    cfg.profiling_enabled = False
    tm = TemplateMiner(config=cfg)
    return [tm.add_log_message(x)["cluster_id"] for x in lines]


def bench_patterns(big_log: Path | None = None, now: datetime | None = None, n: int = 100_000) -> None:
    import logging

    logging.getLogger("drain3").setLevel(logging.WARNING)
    print(f"patterns ({n} lines per Loghub-style sample)")
    worst_speedup, worst_rate = float("inf"), float("inf")
    for ds in SAMPLES:
        lines, truth = sample(ds, n)
        t0 = time.perf_counter()
        p_ours = ours(lines)
        t_ours = time.perf_counter() - t0
        t0 = time.perf_counter()
        p_drain = drain(lines)
        t_drain = time.perf_counter() - t0
        ga_o, ga_d = grouping_accuracy(p_ours, truth), grouping_accuracy(p_drain, truth)
        rate = n / t_ours
        worst_speedup, worst_rate = min(worst_speedup, t_drain / t_ours), min(worst_rate, rate)
        print(f"  {ds:<8} ours {rate / 1000:>6.0f}k lines/s, {t_drain / t_ours:>5.1f}x drain3;  "
              f"grouping accuracy ours {ga_o:.3f} vs drain3 {ga_d:.3f}  {'ok' if ga_o >= ga_d else 'MISSED'}", flush=True)
    print(f"  {'worst speed-up vs drain3 (target >= 2x)':<58} {worst_speedup:>7.2f}x   {'ok' if worst_speedup >= 2 else 'MISSED'}")
    print(f"  {'worst in-process rate (target >= 100k lines/s)':<58} {worst_rate / 1000:>6.0f}k   {'ok' if worst_rate >= 1e5 else 'MISSED'}")
    if big_log is not None and now is not None:
        for level in ("error", "any"):
            since = now - timedelta(minutes=30)
            t0 = time.perf_counter()
            mine_patterns([big_log], since=since, until=None, now=now, level=level)  # type: ignore[arg-type]
            dt = time.perf_counter() - t0
            lines = _lines_in_window(big_log, now, since)
            print(f"  mine_patterns last 30 min, level={level:<5}: {lines / dt / 1000:>6.0f}k lines/s of window ({lines} lines)")


def _lines_in_window(path: Path, now: datetime, since: datetime) -> int:
    from incident.tools import logscan

    parser = logscan.parser_for(path, now)
    lo, hi = logscan.window_offsets(path, parser, since.timestamp(), None)
    return sum(chunk.count(b"\n") for _, chunk in logscan.iter_chunks(path, lo, hi))


if __name__ == "__main__":
    bench_patterns()
