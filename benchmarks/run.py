"""Run every benchmark in this folder and print their tables (the README's numbers).

Usage: ``python benchmarks/run.py [--quick]``.  Each table reports medians and
ratios measured in the same run against the baselines named in its rows.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = [
    "bench_core",
    "bench_curves",
    "bench_torch_tensors",
    "bench_torch",
    "bench_compile",
    "bench_jax",
    "bench_import",
]


def main(argv: list[str]) -> None:
    for name in BENCHMARKS:
        path = HERE / f"{name}.py"
        if not path.exists():
            continue
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        print(f"\n### {name}: {(module.__doc__ or '').strip().splitlines()[0]}\n")
        module.main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
