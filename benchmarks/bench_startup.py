"""Start-up: `incident --help` against a minimal Typer hello-world app, measured in the same run.

    python benchmarks/bench_startup.py [--runs 15]

Prints the median wall time of each (fresh interpreter per run) and the ratio. Target: <= 1.3x.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HELLO = """
import typer
app = typer.Typer()
@app.command()
def hello(name: str = "world") -> None:
    print(f"hello {name}")
if __name__ == "__main__":
    app()
"""


def median_time(argv: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        hello = Path(d) / "hello.py"
        hello.write_text(HELLO)
        # Warm the OS caches for both before measuring.
        subprocess.run([sys.executable, str(hello), "--help"], capture_output=True)
        subprocess.run([sys.executable, "-m", "incident", "--help"], capture_output=True)
        ref = median_time([sys.executable, str(hello), "--help"], args.runs)
        ours = median_time([sys.executable, "-m", "incident", "--help"], args.runs)
        note = median_time([sys.executable, "-m", "incident", "list", "--incidents-dir", d], args.runs)
    print(f"typer hello-world --help   median {ref * 1000:7.1f} ms  (reference)")
    print(f"incident --help            median {ours * 1000:7.1f} ms  ratio {ours / ref:.2f}x  (target <= 1.30x)")
    print(f"incident list              median {note * 1000:7.1f} ms  ratio {note / ref:.2f}x")


if __name__ == "__main__":
    main()
