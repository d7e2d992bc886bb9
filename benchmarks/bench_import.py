"""Import cost: ``import lrkit`` vs ``import numpy`` alone, in fresh processes (medians of interleaved rounds).

Also lists the standard-library and framework modules ``import lrkit`` loads
that ``import numpy`` does not (argparse, torch, jax, keras must not be among them).
"""

from __future__ import annotations

import statistics
import subprocess
import sys

PROBE = "import time, sys; t = time.perf_counter(); import {mod}; print(time.perf_counter() - t)"
MODULES = "import sys; import {mod}; print(' '.join(sorted(m for m in sys.modules if '.' not in m)))"


def seconds(mod: str) -> float:
    out = subprocess.run([sys.executable, "-c", PROBE.format(mod=mod)], capture_output=True, text=True, check=True)
    return float(out.stdout)


def top_modules(mod: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", MODULES.format(mod=mod)], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def main(argv: list[str] | None = None) -> None:
    rounds = 3 if "--quick" in (argv or []) else 15
    numpy_s, lrkit_s = [], []
    for _ in range(rounds):
        numpy_s.append(seconds("numpy"))
        lrkit_s.append(seconds("lrkit"))
    n, lk = statistics.median(numpy_s), statistics.median(lrkit_s)
    extra = sorted(top_modules("lrkit") - top_modules("numpy") - {"lrkit"})
    print(f"median of {rounds} fresh processes each, interleaved\n")
    print("| import | ms | over numpy |")
    print("|---|---:|---:|")
    print(f"| numpy | {n * 1e3:.1f} | |")
    print(f"| lrkit | {lk * 1e3:.1f} | +{(lk - n) * 1e3:.1f} ms |")
    print(f"\ntop-level modules lrkit adds: {', '.join(extra) or 'none'}")


if __name__ == "__main__":
    main(sys.argv[1:])
