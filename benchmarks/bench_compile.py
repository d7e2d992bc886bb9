"""torch.compile: a compiled Adam step with a tensor LR, lrkit's Scheduler vs a hand-written loop (fresh processes).

Each measurement runs in a fresh Python process (dynamo's caches and inductor's in-process state start
empty; inductor's on-disk cache is private to this run, so the first process of each variant does not
warm it for the other), and the variants take turns: round 1 runs hand, lrkit, round 2 lrkit, hand, ...
In each process ``torch.compile`` wraps ``opt.step()`` (Adam, a 64→64 linear layer, LR a 0-d tensor)
and the loop runs ``UPDATES`` updates:

* **hand**: ``lr.fill_(base * f(t))`` with warmup × cosine written in ``math`` (the floor);
* **lrkit**: ``Scheduler(opt, factor=warmup(cosine(...)))``, default counting mode (optimizer hooks
  plus ``sched.step()``), which writes the tensor LR in place.

Reported separately, medians over processes:

* **compile**: wall time of the first ``WARMUP_CALLS`` updates (tracing, compiling, the first runs;
  Adam creates its state on the first call, which dynamo sees as a second frame state);
* **step**: median wall time of one update (compiled ``opt.step()`` plus the LR write) over the
  remaining updates;
* **graphs**: ``torch._dynamo.utils.counters["stats"]["unique_graphs"]`` after all updates (lrkit's
  target: 1, the same as the hand-written loop), and dynamo's recompilations.

Usage: ``python benchmarks/bench_compile.py [--quick] [--backend inductor|eager|aot_eager]``.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
import tempfile

UPDATES = 300
WARMUP_CALLS = 3
VARIANTS = ("hand", "lrkit")
WARMUP_STEPS, DECAY_STEPS, BASE_LR = 40, 400, 0.01  # decay longer than the run: the final LRs compared are not 0


def child(variant: str, backend: str, updates: int) -> dict[str, float]:
    """One process, one variant: compile, run ``updates`` updates, return the timings and dynamo's counters."""
    import logging
    import time

    import torch
    from torch._dynamo.utils import counters

    torch.manual_seed(0)
    torch.set_num_threads(1)  # the machine has 2 shared cores; one thread keeps the variants comparable
    model = torch.nn.Linear(64, 64)
    lr = torch.tensor(BASE_LR)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for p in model.parameters():
        p.grad = torch.randn_like(p)

    if variant == "lrkit":
        import lrkit
        from lrkit.torch import Scheduler

        sched = Scheduler(
            opt, factor=lrkit.warmup(lrkit.cosine(1.0, steps=DECAY_STEPS), steps=WARMUP_STEPS, prefix=False)
        )
        write = sched.step
    else:
        t_box = [0]

        def write() -> None:
            # the same formula as lrkit's warmup(cosine(...), prefix=False), hand-written
            t_box[0] += 1
            t = t_box[0]
            warm = min(t / WARMUP_STEPS, 1.0)
            cos = 0.5 * (1.0 + math.cos(math.pi * min(t, DECAY_STEPS) / DECAY_STEPS))
            lr.fill_(BASE_LR * warm * cos)

        lr.fill_(0.0)  # factor at step 0: warmup 0/40

    torch._dynamo.reset()
    counters.clear()
    # dynamo has no recompilation counter; its "recompiles" log names each one (as in the tests)
    recompiles = [0]

    class Count(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            recompiles[0] += "Recompiling" in record.getMessage()

    torch._logging.set_logs(recompiles=True)
    logging.getLogger("torch._dynamo").addHandler(Count())

    @torch.compile(backend=backend)
    def opt_step() -> None:
        opt.step()

    clock = time.perf_counter
    start = clock()
    for _ in range(WARMUP_CALLS):
        opt_step()
        write()
    compile_s = clock() - start
    times = []
    for _ in range(updates - WARMUP_CALLS):
        t0 = clock()
        opt_step()
        write()
        times.append(clock() - t0)
    return {
        "compile_s": compile_s,
        "step_s": statistics.median(times),
        "graphs": counters["stats"]["unique_graphs"],
        "recompiles": recompiles[0],
        "lr": float(lr),
    }


def run_child(variant: str, backend: str, updates: int, cache: str) -> dict[str, float]:
    env = dict(os.environ, TORCHINDUCTOR_CACHE_DIR=os.path.join(cache, variant))
    out = subprocess.run(
        [sys.executable, __file__, "--child", variant, "--backend", backend, "--updates", str(updates)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    argv = list(argv or [])
    quick = "--quick" in argv
    backend = argv[argv.index("--backend") + 1] if "--backend" in argv else ("eager" if quick else "inductor")
    rounds = 1 if quick else 5
    updates = 30 if quick else UPDATES
    results: dict[str, list[dict[str, float]]] = {v: [] for v in VARIANTS}
    with tempfile.TemporaryDirectory(prefix="lrkit-bench-inductor-") as cache:
        for r in range(rounds):
            order = VARIANTS if r % 2 == 0 else VARIANTS[::-1]  # round-robin: each variant goes first in turn
            for variant in order:
                # a fresh inductor cache per process: every process pays the full compile
                results[variant].append(run_child(variant, backend, updates, os.path.join(cache, str(r))))

    def med(variant: str, key: str) -> float:
        return statistics.median(x[key] for x in results[variant])

    print(f"backend {backend}, {updates} updates per process, median of {rounds} fresh processes per variant\n")
    print("| tensor LR, compiled Adam step | compile (first 3 updates) | step µs | step / hand | graphs | recompiles |")
    print("|---|---:|---:|---:|---:|---:|")
    hand_step = med("hand", "step_s")
    for variant, label in (("hand", "hand-written `lr.fill_(...)`"), ("lrkit", "lrkit `Scheduler` (default mode)")):
        graphs = max(x["graphs"] for x in results[variant])
        recompiles = max(x["recompiles"] for x in results[variant])
        print(
            f"| {label} | {med(variant, 'compile_s'):.2f} s | {med(variant, 'step_s') * 1e6:.1f} | "
            f"{med(variant, 'step_s') / hand_step:.2f}x | {graphs} | {recompiles} |"
        )
    ratio = med("lrkit", "compile_s") / med("hand", "compile_s")
    print(f"\ncompile time lrkit / hand: {ratio:.2f}x (max graphs over the processes shown)")
    # the LR tensor is float32: lrkit rounds base * s(t) computed in float64, the hand loop its own product
    lrs = [x["lr"] for v in VARIANTS for x in results[v]]
    assert max(lrs) - min(lrs) <= 1e-6 * max(lrs), f"the variants disagree on the final LR: {lrs}"


if __name__ == "__main__":
    if "--child" in sys.argv:
        args = sys.argv
        out = child(
            args[args.index("--child") + 1], args[args.index("--backend") + 1], int(args[args.index("--updates") + 1])
        )
        print(json.dumps(out))
    else:
        main(sys.argv[1:])
