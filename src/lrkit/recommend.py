"""``lrkit.recommend``: a warmup + decay schedule from what you know, with the rules and their sources.

The seed note lrkit grew from ends with an empty heading, "About the warmup
parameters".  This module is the executable answer (``docs/why-warmup.md`` is
the written one): from the optimizer and its β2, the batch size, the length
of training and a few architecture hints, it picks the peak learning rate and
the warmup length, builds ``warmup(cosine(peak, floor=...), steps=W)``
resolved to the run, and lists every rule it applied with its source.

The rules (each one is a :class:`Reason` in the result, in this order):

* **peak LR** — the ``lr`` you give; else the ``measured_lr`` of a range test
  (Smith 2017, :func:`lrkit.torch.lr_range_test`); else for SGD
  ``base_lr * batch_size / ref_batch_size`` (Goyal et al. 2017's linear
  scaling rule; ``base_lr`` defaults to their 0.1 per 256 examples); else
  Adam's default 1e-3 (Kingma & Ba 2015).
* **Adam / AdamW**: ``W = round(2 / (1 - β2))`` updates of linear warmup
  (Ma & Yarats 2021, "untuned" warmup: 2000 for β2 = 0.999, 100 for 0.98).
* **RAdam**: no warmup (Liu et al. 2019: RAdam rectifies the variance of the
  adaptive step that warmup works around).
* **SGD** with ``batch_size > ref_batch_size``: gradual warmup over 5 epochs
  from ``ref_batch_size / batch_size`` of the peak (Goyal et al. 2017: from
  ``η`` to ``kη``).  A batch no larger than the reference gets none.
* **Post-LN Transformer** (``post_ln=True``): warmup is required (Xiong et al.
  2020); at least the 4000 updates of Vaswani et al. 2017, which Xiong et al.
  also use.  ``post_ln=False`` (Pre-LN) adds no warmup of its own.
* **cap**: the warmup is at most ``max_warmup_fraction`` of the run (default
  10%).  Why 10%: every source above warms up for less (Goyal's 5 of 90
  epochs is 5.6%; Ma & Yarats' 2000 updates of a 100k-step run is 2%; LLM
  pre-training warms up for at most 1–2% of the run), and steps spent warming
  up are steps not spent at the peak; the cap only bites on short runs,
  where it says so.
* **decay**: cosine from the peak to ``floor_ratio * peak`` at the end of
  training (Loshchilov & Hutter 2016; the floor of 10% is Hoffmann et al.
  2022's "decay by 10×"), or ``decay="wsd"``: hold, then a linear cooldown
  over the last ``cooldown_fraction`` of the run (Hu et al. 2024, Hägele et
  al. 2024).

Pure Python: no framework is imported.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from . import validators as v
from .base import Schedule
from .composition import warmup
from .schedules import cosine, wsd

__all__ = ["OPTIMIZERS", "SOURCES", "Reason", "Recommendation", "recommend"]

#: optimizer names ``recommend`` knows, by family
OPTIMIZERS = {"adam": "adam", "adamw": "adam", "radam": "radam", "sgd": "sgd"}

#: the references the rules cite, by key (the text shown in a :class:`Reason`)
SOURCES = {
    "ma-yarats": "Ma & Yarats 2021, 'On the adequacy of untuned warmup for adaptive optimization' "
    "(AAAI 2021, arXiv:1910.04209)",
    "goyal": "Goyal et al. 2017, 'Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour' (arXiv:1706.02677)",
    "liu": "Liu et al. 2019, 'On the Variance of the Adaptive Learning Rate and Beyond' (RAdam, arXiv:1908.03265)",
    "xiong": "Xiong et al. 2020, 'On Layer Normalization in the Transformer Architecture' (arXiv:2002.04745)",
    "vaswani": "Vaswani et al. 2017, 'Attention Is All You Need' (arXiv:1706.03762)",
    "smith": "Smith 2017, 'Cyclical Learning Rates for Training Neural Networks' (LR range test, arXiv:1506.01186)",
    "kingma": "Kingma & Ba 2015, 'Adam: A Method for Stochastic Optimization' (arXiv:1412.6980)",
    "llm": "LLM practice: a warmup of at most 1-2% of the run (Biderman et al. 2023, Pythia, arXiv:2304.01373: 1%; "
    "the largest runs use less: Touvron et al. 2023, LLaMA 2: 2000 of ~500k updates, 0.4%)",
    "cosine": "Loshchilov & Hutter 2016, 'SGDR' (arXiv:1608.03983); floor 10% of the peak: Hoffmann et al. 2022, "
    "'Training Compute-Optimal Large Language Models' (arXiv:2203.15556)",
    "wsd": "Hu et al. 2024, 'MiniCPM' (arXiv:2404.06395); Hägele et al. 2024, arXiv:2405.18392",
}

#: Goyal et al.'s reference: LR 0.1 for a batch of 256 examples, warmup over 5 epochs
GOYAL_BASE_LR = 0.1
GOYAL_REF_BATCH = 256
GOYAL_WARMUP_EPOCHS = 5
#: Vaswani et al.'s warmup_steps, also Xiong et al.'s for Post-LN
POST_LN_MIN_WARMUP = 4000
#: Adam's default learning rate (Kingma & Ba; torch, Keras, optax)
ADAM_DEFAULT_LR = 1e-3


class _Record:
    """A frozen record: ``__init__`` by position or keyword, ``==``, ``hash`` and ``repr`` over ``_fields``.

    What ``@dataclass(frozen=True)`` would give, written by hand because ``lrkit`` imports this module
    with ``import lrkit``, and ``dataclasses`` plus the generated methods cost about 2 ms of import time
    (``benchmarks/bench_import.py``).  Assigning an attribute raises ``AttributeError``.
    """

    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()
    _defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if len(args) > len(self._fields):
            raise TypeError(f"{type(self).__name__} takes {len(self._fields)} arguments, got {len(args)}")
        values = dict(zip(self._fields, args, strict=False))  # fewer args than fields: the rest by keyword
        for name, value in kwargs.items():
            if name not in self._fields or name in values:
                raise TypeError(f"{type(self).__name__}: unexpected or repeated argument {name!r}")
            values[name] = value
        for name in self._fields:
            if name not in values:
                if name not in self._defaults:
                    raise TypeError(f"{type(self).__name__}: missing argument {name!r}")
                values[name] = self._defaults[name]
            object.__setattr__(self, name, values[name])

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"cannot assign to field {name!r}: {type(self).__name__} is frozen")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}: {type(self).__name__} is frozen")

    def _astuple(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._astuple() == other._astuple()  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash(self._astuple())

    def __reduce__(self) -> tuple[Any, ...]:
        # pickle and copy rebuild through __init__ (the default would assign the slots, which is refused)
        return type(self), self._astuple()

    def __repr__(self) -> str:
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({args})"


class Reason(_Record):
    """One rule that was applied: what it decided, and where it comes from."""

    __slots__ = _fields = ("rule", "decision", "source")
    rule: str
    decision: str
    source: str

    def __str__(self) -> str:
        return f"{self.rule}: {self.decision} [{self.source}]"


class Recommendation(_Record):
    """The result of :func:`recommend`.

    Attributes:
        schedule: the schedule, resolved to ``total_steps`` (``repr`` is its spec).
        peak_lr: the learning rate at the end of the warmup.
        warmup_steps: the warmup length in optimizer updates (0: none).
        total_steps: the length of training.
        reasons: every rule applied, in order, with its source.
    """

    __slots__ = _fields = ("schedule", "peak_lr", "warmup_steps", "total_steps", "reasons")
    _defaults: ClassVar[dict[str, Any]] = {"reasons": ()}
    schedule: Schedule
    peak_lr: float
    warmup_steps: int
    total_steps: int
    reasons: tuple[Reason, ...]

    @property
    def spec(self) -> str:
        return repr(self.schedule)

    def __str__(self) -> str:
        pct = 100.0 * self.warmup_steps / self.total_steps
        lines = [
            f"warmup: {self.warmup_steps} updates ({pct:.3g}% of {self.total_steps})",
            f"peak lr: {self.peak_lr:g}",
            f"spec: {self.spec}",
            "",
            "reasons:",
        ]
        lines += [f"  - {r}" for r in self.reasons]
        return "\n".join(lines)


def _untuned_warmup(beta2: float) -> int:
    # 2 / (1 - beta2) in float64 is 1999.9999999999982 for 0.999: round to the nearest update
    return round(2.0 / (1.0 - beta2))


def recommend(
    *,
    total_steps: int,
    optimizer: str = "adamw",
    beta2: float | None = None,
    lr: float | None = None,
    measured_lr: float | None = None,
    base_lr: float | None = None,
    batch_size: int | None = None,
    ref_batch_size: int | None = None,
    steps_per_epoch: int | None = None,
    post_ln: bool | None = None,
    max_warmup_fraction: float = 0.1,
    decay: str = "cosine",
    floor_ratio: float = 0.1,
    cooldown_fraction: float = 0.2,
) -> Recommendation:
    """A warmup + decay schedule for a run, and the rules that chose it (see the module docstring).

    Args:
        total_steps: the length of training in optimizer updates (``>= 1``).
        optimizer: ``"adam"``, ``"adamw"``, ``"radam"`` or ``"sgd"`` (momentum or not).
        beta2: Adam's β2 in ``[0, 1)`` (default 0.999, torch's and Keras' default).
        lr: the peak learning rate, if you know it (wins over everything else).
        measured_lr: the suggestion of an LR range test (:func:`lrkit.torch.lr_range_test`).
        base_lr: SGD's LR at ``ref_batch_size`` (default Goyal's 0.1 per 256).
        batch_size: your batch size (examples per update).
        ref_batch_size: the batch size ``base_lr`` was tuned at (default 256).
        steps_per_epoch: updates per epoch (needed for Goyal's 5-epoch warmup).
        post_ln: ``True`` for a Post-LN Transformer (needs warmup), ``False`` for Pre-LN.
        max_warmup_fraction: the cap on the warmup, a share of the run in ``(0, 1)``.
        decay: ``"cosine"`` (to the end of training) or ``"wsd"`` (hold, then cool down).
        floor_ratio: the final LR as a share of the peak, in ``[0, 1]``.
        cooldown_fraction: the share of the run the ``wsd`` cooldown takes, in ``(0, 1]``.

    Returns:
        a :class:`Recommendation`: ``.schedule`` (resolved), ``.warmup_steps``, ``.peak_lr``, ``.reasons``.

    Example: ``recommend(optimizer="adam", beta2=0.999, total_steps=100_000).warmup_steps == 2000``.
    """
    total = v.whole_steps("total_steps", total_steps, minimum=1)
    name = v.choice("optimizer", optimizer.lower() if isinstance(optimizer, str) else optimizer, OPTIMIZERS)
    family = OPTIMIZERS[name]
    b2 = 0.999 if beta2 is None else v.real("beta2", beta2, low=0.0, high=1.0, high_open=True)
    cap_fraction = v.real("max_warmup_fraction", max_warmup_fraction, low=0.0, high=1.0, low_open=True, high_open=True)
    floor_share = v.real("floor_ratio", floor_ratio, low=0.0, high=1.0)
    cooldown = v.real("cooldown_fraction", cooldown_fraction, low=0.0, high=1.0, low_open=True)
    decay = v.choice("decay", decay, ("cosine", "wsd"))
    if post_ln is not None:
        v.flag("post_ln", post_ln)
    spe = None if steps_per_epoch is None else v.whole_steps("steps_per_epoch", steps_per_epoch, minimum=1)
    batch = None if batch_size is None else v.whole("batch_size", batch_size, minimum=1, unit="examples")
    ref = (
        GOYAL_REF_BATCH
        if ref_batch_size is None
        else v.whole("ref_batch_size", ref_batch_size, minimum=1, unit="examples")
    )
    reasons: list[Reason] = []

    # -- the peak learning rate --------------------------------------------------
    k = 1.0 if batch is None else batch / ref  # Goyal's k: how many reference batches one update sees
    if lr is not None:
        peak = v.real("lr", lr, low=0.0, low_open=True)
        reasons.append(Reason("peak lr", f"{peak:g}, as given", "you"))
    elif measured_lr is not None:
        peak = v.real("measured_lr", measured_lr, low=0.0, low_open=True)
        reasons.append(Reason("peak lr", f"{peak:g}, the LR range test's suggestion", SOURCES["smith"]))
    elif family == "sgd":
        base = GOYAL_BASE_LR if base_lr is None else v.real("base_lr", base_lr, low=0.0, low_open=True)
        peak = base * k
        why = f"linear scaling rule: {base:g} x {batch or ref} / {ref} = {peak:g}"
        if batch is None:
            why += " (no batch_size given: the reference batch)"
        reasons.append(Reason("peak lr", why, SOURCES["goyal"]))
    else:
        peak = ADAM_DEFAULT_LR if base_lr is None else v.real("base_lr", base_lr, low=0.0, low_open=True)
        why = f"{peak:g}, Adam's default" if base_lr is None else f"{peak:g}, the base_lr given"
        if batch is not None and batch != ref:
            why += " (not scaled with the batch: the linear scaling rule is for SGD)"
        reasons.append(Reason("peak lr", why, SOURCES["kingma"]))

    # -- the warmup length ---------------------------------------------------------
    start_factor = 0.0
    if family == "adam":
        w = _untuned_warmup(b2)
        reasons.append(
            Reason(
                "adam warmup",
                f"2 / (1 - beta2) = 2 / (1 - {b2:g}) = {w} updates of linear warmup",
                SOURCES["ma-yarats"],
            )
        )
    elif family == "radam":
        w = 0
        reasons.append(
            Reason(
                "radam warmup",
                "none: RAdam's rectifier does what warmup does for Adam's early variance",
                SOURCES["liu"],
            )
        )
    elif batch is not None and batch > ref:
        if spe is None:
            raise ValueError(
                f"steps_per_epoch is needed for a batch of {batch} > ref_batch_size {ref}: Goyal et al.'s "
                f"gradual warmup lasts {GOYAL_WARMUP_EPOCHS} epochs, got steps_per_epoch=None"
            )
        w = GOYAL_WARMUP_EPOCHS * spe
        start_factor = 1.0 / k
        reasons.append(
            Reason(
                "large-batch warmup",
                f"{GOYAL_WARMUP_EPOCHS} epochs x {spe} = {w} updates, linear from lr/k = {peak * start_factor:g} "
                f"(k = {batch}/{ref} = {k:g}) to {peak:g}",
                SOURCES["goyal"],
            )
        )
    else:
        w = 0
        reasons.append(
            Reason(
                "sgd warmup",
                f"none: batch {batch or ref} <= reference {ref}, the regime tuned without it",
                SOURCES["goyal"],
            )
        )

    if post_ln:
        if w < POST_LN_MIN_WARMUP:
            reasons.append(
                Reason(
                    "post-ln",
                    f"warmup raised from {w} to {POST_LN_MIN_WARMUP} updates: Post-LN Transformers diverge or stall "
                    "without warmup (large gradients near the output at initialization)",
                    f"{SOURCES['xiong']}; warmup_steps=4000 from {SOURCES['vaswani']}",
                )
            )
            w = POST_LN_MIN_WARMUP
            start_factor = 0.0
        else:
            reasons.append(Reason("post-ln", f"{w} updates >= {POST_LN_MIN_WARMUP}: enough", SOURCES["xiong"]))
    elif post_ln is False:
        reasons.append(
            Reason("pre-ln", "no warmup added for the architecture: Pre-LN trains without it", SOURCES["xiong"])
        )

    cap = math.floor(cap_fraction * total)
    if w > cap:
        reasons.append(
            Reason(
                "cap",
                f"warmup cut from {w} to {cap} updates = {100 * cap_fraction:g}% of the {total}-update run: the "
                "sources warm up for less than that (Goyal 5 of 90 epochs = 5.6%, LLM practice 1-2%); a run this "
                "short spends too much of itself below the peak (or lower the peak LR instead)",
                SOURCES["llm"],
            )
        )
        w = cap
    elif w:
        reasons.append(
            Reason(
                "cap",
                f"{w} updates = {100 * w / total:.3g}% of the run, within the {100 * cap_fraction:g}% cap "
                "(LLM practice warms up for at most 1-2%)",
                SOURCES["llm"],
            )
        )

    # -- the decay -------------------------------------------------------------------
    # 12 significant digits: the floor is a chosen round value, and 3.2 * 0.1 = 0.32000000000000006 spoils the spec
    floor = float(f"{peak * floor_share:.12g}")
    body: Schedule
    if decay == "cosine":
        body = cosine(peak, floor=floor)
        reasons.append(
            Reason(
                "decay",
                f"cosine from {peak:g} to {floor:g} ({floor_share:g} x peak) at step {total}",
                SOURCES["cosine"],
            )
        )
    else:
        cool = max(1, round(cooldown * (total - w)))
        body = wsd(peak, warmup_steps=0, decay_steps=cool, floor=floor)
        reasons.append(
            Reason(
                "decay",
                f"hold {peak:g}, then a linear cooldown to {floor:g} over the last {cool} updates",
                SOURCES["wsd"],
            )
        )
    s = warmup(body, steps=w, start_factor=start_factor, prefix=True).resolve(total_steps=total)
    return Recommendation(schedule=s, peak_lr=peak, warmup_steps=w, total_steps=total, reasons=tuple(reasons))
