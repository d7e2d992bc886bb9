"""Import cost: ``import lrkit`` vs ``import numpy`` alone, in fresh processes (medians of interleaved rounds).

Two settings, because they differ by about 5×:

* **bytecode cached** (the headline, what an installed package costs): each probe runs with
  ``PYTHONPYCACHEPREFIX`` pointing at a private folder that a warm-up run fills, so lrkit and numpy are
  both loaded from ``.pyc`` files, as after ``pip install`` (which compiles them).
* **compiled from source**: ``PYTHONDONTWRITEBYTECODE=1`` and no cache for lrkit (numpy keeps the
  ``.pyc`` files of its installation).  This is what a checkout run with that variable pays, e.g. this
  repository's CI; most of it is compiling lrkit's own source, not running it.

Also lists the standard-library and framework modules ``import lrkit`` loads
that ``import numpy`` does not (argparse, torch, jax, keras must not be among them).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile

# CPU time of the import statement (process_time): the machine is shared, and wall time counts the
# other processes' turns on the cores too
PROBE = "import time, sys; t = time.process_time(); import {mod}; print(time.process_time() - t)"
MODULES = "import sys; import {mod}; print(' '.join(sorted(m for m in sys.modules if '.' not in m)))"


def _env(cache: str | None) -> dict[str, str]:
    env = dict(os.environ)
    if cache is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.pop("PYTHONPYCACHEPREFIX", None)
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = cache
    return env


def seconds(mod: str, cache: str | None = None) -> float:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(mod=mod)], capture_output=True, text=True, check=True, env=_env(cache)
    )
    return float(out.stdout)


def top_modules(mod: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", MODULES.format(mod=mod)], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


def main(argv: list[str] | None = None) -> None:
    rounds = 3 if "--quick" in (argv or []) else 15
    with tempfile.TemporaryDirectory(prefix="lrkit-bench-pyc-") as cache:
        seconds("lrkit", cache)  # warm-up: writes the .pyc files of numpy and lrkit into the private cache
        times: dict[tuple[str, str], list[float]] = {}
        for _ in range(rounds):
            for setting, where in (("bytecode cached", cache), ("compiled from source", None)):
                for mod in ("numpy", "lrkit"):
                    times.setdefault((setting, mod), []).append(seconds(mod, where))
    extra = sorted(top_modules("lrkit") - top_modules("numpy") - {"lrkit"})
    print(f"CPU time of the import, median of {rounds} fresh processes each, interleaved\n")
    settings = ("bytecode cached", "compiled from source")
    n = {st: statistics.median(times[(st, "numpy")]) for st in settings}
    lk = {st: statistics.median(times[(st, "lrkit")]) for st in settings}
    print("| import | bytecode cached | over numpy | compiled from source | over numpy |")
    print("|---|---:|---:|---:|---:|")
    print(f"| numpy | {n[settings[0]] * 1e3:.1f} ms | | {n[settings[1]] * 1e3:.1f} ms | |")
    print(
        f"| lrkit | {lk[settings[0]] * 1e3:.1f} ms | {(lk[settings[0]] - n[settings[0]]) * 1e3:+.1f} ms "
        f"| {lk[settings[1]] * 1e3:.1f} ms | {(lk[settings[1]] - n[settings[1]]) * 1e3:+.1f} ms |"
    )
    print(f"\ntop-level modules lrkit adds: {', '.join(extra) or 'none'}")


if __name__ == "__main__":
    main(sys.argv[1:])
