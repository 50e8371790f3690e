"""Benchmark: the bundled CBC binary with and without `threads 1`, on one tiny model.

    python -m exactprune.benchmarks.cbc_threads --runs 300 --out docs/benchmarks

Why. The default test run took minutes longer than it should on one machine: tiny CBC solves
(0.02 s) sometimes took 10 s. This runs the CBC binary PuLP ships on the same tiny subset-sum
MPS file `--runs` times per setting, alternating the settings run by run so that both see the
same machine, and counts the runs over one second. `solvers.milp_engines.cbc_threads` gives CBC
no `threads` argument for one thread because of it.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from exactprune.benchmarks.pruning.levers import write_page

SETTINGS = {"serial (no threads argument)": [], "threads 1": ["threads", "1"]}
SLOW_S = 1.0


def cbc_path() -> str:
    """The CBC binary exactprune's `cbc` engine runs."""
    from exactprune.solvers.milp_engines.cbc import _make_cbc

    return str(_make_cbc(msg=False).path)


def tiny_mps(folder: Path) -> Path:
    """A subset-sum model of n = 6 (seed 0) as MPS, written by the formulation's exporter."""
    from exactprune.formulations.export import export_model
    from exactprune.instances import generate_subset_sum

    path = folder / "tiny.mps"
    export_model(generate_subset_sum(6, seed=0), None, path, "mps")
    if not path.stat().st_size:
        raise RuntimeError(f"no model written to {path}")
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", type=int, default=300, help="solves per setting")
    p.add_argument("--out", type=Path, default=Path("docs/benchmarks"))
    args = p.parse_args(argv)
    binary = cbc_path()
    times: dict[str, list[float]] = {name: [] for name in SETTINGS}
    with tempfile.TemporaryDirectory() as tmp:
        mps = tiny_mps(Path(tmp))
        for _ in range(args.runs):
            for name, extra in SETTINGS.items():
                t0 = time.perf_counter()
                subprocess.run([binary, str(mps), *extra, "solve", "solution",
                                str(Path(tmp) / "tiny.sol")], stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
                times[name].append(time.perf_counter() - t0)
                if not (Path(tmp) / "tiny.sol").read_text().startswith("Optimal"):
                    raise RuntimeError(f"CBC did not solve {mps} ({name})")
                (Path(tmp) / "tiny.sol").unlink()
    rows = [{"setting": name, "runs": len(ts), "median_s": statistics.median(ts),
             "max_s": max(ts), "over_1s": sum(t > SLOW_S for t in ts), "total_s": sum(ts)}
            for name, ts in times.items()]
    lines = [
        "# CBC with and without `threads 1` (bundled binary, tiny model)",
        "",
        f"Command: `python -m exactprune.benchmarks.cbc_threads --runs {args.runs}`",
        "",
        f"Binary: `{binary}`; model: subset-sum n = 6, seed 0, exported as MPS; the two "
        "settings alternate run by run.",
        "",
        "| setting | runs | median (s) | max (s) | runs over 1 s | total (s) |",
        "|---|---|---|---|---|---|",
        *[f"| {r['setting']} | {r['runs']} | {r['median_s']:.4f} | {r['max_s']:.4f} | "
          f"{r['over_1s']} | {r['total_s']:.1f} |" for r in rows],
    ]
    write_page(args.out, "cbc-threads", lines, rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
