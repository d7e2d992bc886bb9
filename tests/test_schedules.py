"""Golden boundary values for every building block, and step-by-step checks against torch.

Every expected value below is derived by hand from the formula in the block's
docstring (the derivation is the comment next to it); none is copied from
lrkit's output.  Blocks that mirror a torch scheduler are also compared with
the real scheduler over thousands of steps.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

import numpy as np
import pytest

import lrkit
from lrkit import Schedule

BIG = 2**40  # "far after the end": the promise is finite, non-negative values out to here

# (schedule, step, expected, derivation).  Values that are exact in binary
# floating point are compared with ==, the others with a 1e-12 relative tolerance.
GOLDEN: list[tuple[Schedule, int, float]] = []


def g(s: Schedule, cases: list[tuple[int, float]]) -> None:
    GOLDEN.extend((s, t, want) for t, want in cases)


# -- constant -------------------------------------------------------------------
g(lrkit.constant(0.25), [(0, 0.25), (1, 0.25), (BIG, 0.25)])  # the same value everywhere
g(lrkit.constant(0.0), [(0, 0.0), (BIG, 0.0)])  # zero is a valid learning rate

# -- step: value * gamma ** floor(t / step_size) ----------------------------------
_s = lrkit.step(1.0, step_size=10, gamma=0.5)
g(
    _s,
    [
        (0, 1.0),  # floor(0/10) = 0
        (9, 1.0),  # b-1: floor(9/10) = 0
        (10, 0.5),  # b: the decay happens at the boundary, 0.5**1
        (11, 0.5),  # b+1: floor(11/10) = 1
        (19, 0.5),  # floor(19/10) = 1
        (20, 0.25),  # second boundary, 0.5**2
        (BIG, 0.0),  # 0.5 ** 109951162777 underflows to 0.0 (periodic: never stops)
    ],
)
g(lrkit.step(1.0, step_size=10, gamma=0.0), [(9, 1.0), (10, 0.0), (BIG, 0.0)])  # 0**0 = 1, then 0**1 = 0
g(lrkit.step(0.3, step_size=1, gamma=1.0), [(0, 0.3), (BIG, 0.3)])  # gamma 1 never decays

# -- multistep: value * gamma ** bisect_right(milestones, t) -----------------------
_s = lrkit.multistep(0.001, milestones=[10, 20, 20, 30], gamma=0.5)
g(
    _s,
    [
        (0, 0.001),  # no milestone passed
        (9, 0.001),  # b-1
        (10, 0.001 * 0.5),  # b: one milestone passed
        (11, 0.001 * 0.5),  # b+1
        (19, 0.001 * 0.5),
        (20, 0.001 * 0.5**3),  # 20 is listed twice: two more decays at once (torch's Counter)
        (21, 0.001 * 0.5**3),
        (29, 0.001 * 0.5**3),
        (30, 0.001 * 0.5**4),  # last milestone
        (31, 0.001 * 0.5**4),  # holds after the last milestone
        (BIG, 0.001 * 0.5**4),
    ],
)
g(lrkit.multistep(0.3, milestones=[]), [(0, 0.3), (BIG, 0.3)])  # no milestones: constant
g(lrkit.multistep(1.0, milestones=[0], gamma=0.1), [(0, 0.1)])  # a milestone at 0 is already passed at t=0

# -- piecewise_constant ------------------------------------------------------------
_pv = [0.3, 0.2, 0.1]
g(
    lrkit.piecewise_constant([10, 20], _pv),  # at_boundary="next": new value at b
    [(0, 0.3), (9, 0.3), (10, 0.2), (11, 0.2), (19, 0.2), (20, 0.1), (21, 0.1), (BIG, 0.1)],
)
g(
    lrkit.piecewise_constant([10, 20], _pv, at_boundary="previous"),  # Keras: new value at b+1
    [(0, 0.3), (9, 0.3), (10, 0.3), (11, 0.2), (19, 0.2), (20, 0.2), (21, 0.1), (BIG, 0.1)],
)
# A boundary at 0: "next" already uses values[1] at t=0 (bisect_right([0, 5], 0) = 1);
# "previous" uses values[0] at t=0 only (bisect_left([0, 5], 0) = 0).
g(lrkit.piecewise_constant([0, 5], _pv), [(0, 0.2), (4, 0.2), (5, 0.1)])
g(lrkit.piecewise_constant([0, 5], _pv, at_boundary="previous"), [(0, 0.3), (1, 0.2), (5, 0.2), (6, 0.1)])

# -- piecewise_interpolate: points (10, 1.0), (20, 0.5), (40, 0.0) --------------------
_pi = lrkit.piecewise_interpolate([10, 20, 40], [1.0, 0.5, 0.0])
g(
    _pi,
    [
        (0, 1.0),  # before the first point: values[0]
        (9, 1.0),
        (10, 1.0),  # exactly the first point
        (11, 1.0 - 0.5 * 1 / 10),  # 1/10 of the way from 1.0 to 0.5
        (15, 0.75),  # half way
        (19, 1.0 - 0.5 * 9 / 10),
        (20, 0.5),  # exactly the second point
        (21, 0.5 - 0.5 * 1 / 20),  # 1/20 of the way from 0.5 to 0.0
        (30, 0.25),
        (39, 0.5 - 0.5 * 19 / 20),
        (40, 0.0),  # last point
        (41, 0.0),  # held after
        (BIG, 0.0),
    ],
)
_pc = lrkit.piecewise_interpolate([10, 20, 40], [1.0, 0.5, 0.0], method="cosine")


def _half_cos(a: float, b: float, frac: float) -> float:
    # docstring: right + (left - right) * (1 + cos(pi * frac)) / 2
    return b + (a - b) * 0.5 * (1.0 + math.cos(math.pi * frac))


g(
    _pc,
    [
        (0, 1.0),
        (10, 1.0),  # cos(0) = 1: exactly the left value
        (11, _half_cos(1.0, 0.5, 0.1)),
        (15, 0.75),  # cos(pi/2) = 0: the mid point
        (20, 0.5),  # next segment starts: frac 0, cos(0) = 1
        (21, _half_cos(0.5, 0.0, 1 / 20)),
        (39, _half_cos(0.5, 0.0, 19 / 20)),
        (40, 0.0),
        (BIG, 0.0),
    ],
)
g(lrkit.piecewise_interpolate([5], [0.2]), [(0, 0.2), (5, 0.2), (BIG, 0.2)])  # one point: constant

# -- linear: start + (end - start) * clip((t - begin) / steps, 0, 1) ----------------------
g(
    lrkit.linear(0.0, 1.0, steps=10, begin=5),
    [(0, 0.0), (4, 0.0), (5, 0.0), (6, 0.1), (10, 0.5), (14, 0.9), (15, 1.0), (16, 1.0), (BIG, 1.0)],
)
g(lrkit.linear(1.0, 0.0, steps=4), [(0, 1.0), (1, 0.75), (3, 0.25), (4, 0.0), (5, 0.0), (BIG, 0.0)])

# -- exponential: max(floor, value * rate ** (max(t - begin, 0) / decay_steps)) -------------
g(
    lrkit.exponential(1.0, 10, 0.5),
    [
        (0, 1.0),
        (5, math.sqrt(0.5)),  # 0.5 ** (5/10)
        (9, 0.5**0.9),
        (10, 0.5),
        (11, 0.5**1.1),
        (20, 0.25),
        (BIG, 0.0),  # 0.5 ** (2**40 / 10) underflows
    ],
)
g(
    lrkit.exponential(1.0, 10, 0.5, staircase=True),
    [(0, 1.0), (9, 1.0), (10, 0.5), (11, 0.5), (19, 0.5), (20, 0.25), (21, 0.25)],  # floor(t/10)
)
g(
    lrkit.exponential(1.0, 10, 0.5, staircase=True, begin=100),
    [(0, 1.0), (99, 1.0), (100, 1.0), (109, 1.0), (110, 0.5), (111, 0.5)],  # the clock starts at begin
)
g(
    lrkit.exponential(1.0, 10, 0.5, staircase=True, floor=0.2),
    [(20, 0.25), (29, 0.25), (30, 0.2), (BIG, 0.2)],  # 0.125 < floor: max(0.125, 0.2)
)

# -- inverse_time: value / (1 + rate * t / decay_steps) -----------------------------------
g(
    lrkit.inverse_time(1.0, 10, 0.5),
    [(0, 1.0), (5, 1 / 1.25), (10, 1 / 1.5), (20, 0.5), (BIG, 1 / (1 + 0.5 * (BIG / 10)))],
)
g(
    lrkit.inverse_time(1.0, 10, 0.5, staircase=True),
    [(9, 1.0), (10, 1 / 1.5), (11, 1 / 1.5), (19, 1 / 1.5), (20, 0.5)],  # floor(t/10)
)
g(
    # power 0.5, rate 1: 1 / sqrt(1 + t / 10): 1/sqrt(4) at t = 30, 1/sqrt(100) at t = 990
    lrkit.inverse_time(1.0, 10, 1.0, power=0.5),
    [(0, 1.0), (30, 0.5), (990, 0.1), (BIG, 1 / math.sqrt(1 + BIG / 10))],
)
g(lrkit.inverse_time(1.0, 10, 1.0, power=2.0), [(10, 0.25), (90, 0.01)])  # 1/(1+1)**2, 1/(1+9)**2

# -- inverse_power: value * (steps / max(t, steps)) ** power -----------------------------
g(
    lrkit.inverse_power(1.0, steps=100, power=1.0),
    [(0, 1.0), (99, 1.0), (100, 1.0), (101, 100 / 101), (200, 0.5), (400, 0.25), (BIG, 100 / BIG)],
)
g(lrkit.inverse_power(1.0, steps=100, power=2.0), [(200, 0.25), (1000, 0.01)])  # (1/2)**2, (1/10)**2
g(lrkit.inverse_power(0.5, steps=1, power=0.0), [(0, 0.5), (BIG, 0.5)])  # x**0 = 1

# -- inverse_sqrt: value * sqrt(steps / max(t, steps)) ------------------------------------
g(
    lrkit.inverse_sqrt(1.0, steps=100),
    [(0, 1.0), (99, 1.0), (100, 1.0), (101, math.sqrt(100 / 101)), (400, 0.5), (10000, 0.1), (BIG, 10 / 2**20)],
)

# -- polynomial: (value - end) * (1 - min(t, D) / D) ** power + end -------------------------
g(
    lrkit.polynomial(1.0, decay_steps=10),
    [(0, 1.0), (5, 0.5), (9, 0.1), (10, 0.0), (11, 0.0), (BIG, 0.0)],
)
g(lrkit.polynomial(1.0, decay_steps=10, end_value=0.1, power=2.0), [(5, 0.9 * 0.25 + 0.1), (10, 0.1), (BIG, 0.1)])
g(
    lrkit.polynomial(1.0, decay_steps=10, cycle=True),  # horizon D * ceil(t / D), 1 at t=0
    [
        (0, 1.0),
        (5, 0.5),
        (10, 0.0),  # ceil(10/10) = 1: the end of the first horizon
        (11, 1 - 11 / 20),  # horizon 20: jumps back up
        (15, 0.25),
        (20, 0.0),
        (21, 1 - 21 / 30),
        (BIG, 1 - BIG / (10 * math.ceil(BIG / 10))),
    ],
)

# k-decay (timm): (1 - t**k / T**k) ** power
g(
    lrkit.polynomial(1.0, decay_steps=100, power=2.0, k=0.5),
    [(0, 1.0), (25, 0.25), (64, (1 - 0.8) ** 2), (100, 0.0), (BIG, 0.0)],  # sqrt(1/4) = 1/2, sqrt(64/100) = 0.8
)
g(lrkit.polynomial(1.0, decay_steps=100, end_value=0.5, k=2.0), [(10, 0.5 + 0.5 * 0.99), (100, 0.5)])  # 1 - 1/100
g(lrkit.polynomial(1.0, decay_steps=10, cycle=True, k=2.0), [(10, 0.0), (15, 1 - 0.75**2)])  # horizon 20: p = 3/4

# -- cosine: floor + (value - floor) * ((1 + cos(2 pi cycles min(t, T)/T)) / 2) ** exponent -----
g(
    lrkit.cosine(1.0, steps=100),
    [
        (0, 1.0),
        (1, 0.5 * (1 + math.cos(math.pi / 100))),
        (50, 0.5 * (1 + math.cos(math.pi / 2))),  # ~0.5
        (99, 0.5 * (1 + math.cos(math.pi * 99 / 100))),
        (100, 0.0),  # cos(pi) = -1 exactly in binary64
        (101, 0.0),  # held after
        (BIG, 0.0),
    ],
)
g(lrkit.cosine(1.0, steps=100, floor=0.1), [(0, 1.0), (50, 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi / 2))), (100, 0.1)])
g(lrkit.cosine(1.0, steps=100, exponent=2.0), [(50, (0.5 * (1 + math.cos(math.pi / 2))) ** 2), (100, 0.0)])
g(lrkit.cosine(1.0, steps=100, cycles=1.0), [(50, 0.0), (100, 1.0), (BIG, 1.0)])  # cos(pi) = -1, cos(2 pi) = 1
# k-decay (timm): (1 + cos(pi t**k / T**k)) / 2
g(
    lrkit.cosine(1.0, steps=100, k=2.0),
    [
        (0, 1.0),
        (50, 0.5 + math.sqrt(2) / 4),  # 50**2 / 100**2 = 1/4: (1 + cos(pi/4)) / 2
        (100, 0.0),
        (101, 0.0),  # held after, as without k
        (BIG, 0.0),
    ],
)
g(lrkit.cosine(1.0, steps=100, floor=0.1, k=0.5), [(0, 1.0), (25, 0.55), (100, 0.1)])  # sqrt(1/4) = 1/2: cos(pi/2)


# -- cosine_restarts ---------------------------------------------------------------------
def _sgdr(value: float, floor: float, m: float, i: int, x: Fraction | float) -> float:
    # docstring: floor + (value - floor) * m_mul**i * (1 + cos(pi x)) / 2
    return floor + (value - floor) * m**i * 0.5 * (1 + math.cos(math.pi * float(x)))


g(
    lrkit.cosine_restarts(1.0, period=10),
    [
        (0, 1.0),
        (5, _sgdr(1, 0, 1, 0, 0.5)),
        (9, _sgdr(1, 0, 1, 0, 0.9)),  # b-1: the lowest value of the first period
        (10, 1.0),  # b: restart at S_1 = 10
        (11, _sgdr(1, 0, 1, 1, 0.1)),
        (20, 1.0),
        (BIG, _sgdr(1, 0, 1, 0, Fraction(BIG % 10, 10))),  # 2**40 mod 10 = 6
    ],
)
# t_mul=2: S_i = 10 (2**i - 1) = 0, 10, 30, 70; lengths 10, 20, 40.
g(
    lrkit.cosine_restarts(1.0, period=10, t_mul=2.0, m_mul=0.5),
    [
        (0, 1.0),
        (9, _sgdr(1, 0, 0.5, 0, 0.9)),
        (10, 0.5),  # S_1: m_mul**1
        (11, _sgdr(1, 0, 0.5, 1, 1 / 20)),
        (29, _sgdr(1, 0, 0.5, 1, 19 / 20)),
        (30, 0.25),  # S_2
        (31, _sgdr(1, 0, 0.5, 2, 1 / 40)),
        (69, _sgdr(1, 0, 0.5, 2, 39 / 40)),
        (70, 0.125),  # S_3
    ],
)
g(lrkit.cosine_restarts(1.0, period=10, m_mul=0.5, floor=0.1), [(10, 0.1 + 0.9 * 0.5), (20, 0.1 + 0.9 * 0.25)])
# Far after, t_mul=2: 2**40 lies in period i = 36 (S_36 = 10 (2**36 - 1) <= 2**40 < S_37).
_i36 = 36
_x36 = Fraction(BIG - 10 * (2**_i36 - 1), 10 * 2**_i36)
assert 0 <= _x36 < 1
g(lrkit.cosine_restarts(1.0, period=10, t_mul=2.0), [(BIG, _sgdr(1, 0, 1, _i36, _x36))])
# t_mul=1.5: S_1 = 10, S_2 = 25, S_3 = 47.5 (a restart between steps).
g(
    lrkit.cosine_restarts(1.0, period=10, t_mul=1.5),
    [
        (24, _sgdr(1, 0, 1, 1, 14 / 15)),
        (25, 1.0),
        (47, _sgdr(1, 0, 1, 2, 22 / 22.5)),
        (48, _sgdr(1, 0, 1, 3, 0.5 / 33.75)),
    ],
)

# -- cyclic (torch CyclicLR) ---------------------------------------------------------------
g(
    lrkit.cyclic(0.1, 1.0, up_steps=10),  # C = 20, ratio 0.5
    [
        (0, 0.1),
        (5, 0.1 + 0.9 * 0.5),
        (9, 0.1 + 0.9 * 0.9),
        (10, 1.0),  # the peak at up_steps
        (11, 0.1 + 0.9 * 0.9),
        (15, 0.1 + 0.9 * 0.5),
        (20, 0.1),  # a new cycle
        (21, 0.1 + 0.9 * 0.1),
    ],
)
g(
    lrkit.cyclic(0.1, 1.0, up_steps=4, down_steps=12),  # C = 16, ratio 1/4
    [(2, 0.1 + 0.9 * 0.5), (4, 1.0), (10, 0.1 + 0.9 * 0.5), (16, 0.1)],  # x=10/16: (x-1)/(r-1) = 0.5
)
g(
    lrkit.cyclic(0.1, 1.0, up_steps=10, mode="triangular2"),  # amplitude halves every cycle
    [(10, 1.0), (30, 0.1 + 0.9 * 0.5), (40, 0.1), (50, 0.1 + 0.9 * 0.25)],
)
g(
    lrkit.cyclic(0.1, 1.0, up_steps=10, mode="exp_range", gamma=0.99),  # amplitude gamma ** t
    [(0, 0.1), (10, 0.1 + 0.9 * 0.99**10), (30, 0.1 + 0.9 * 0.99**30), (BIG, 0.1)],  # 0.99 ** 2**40 = 0
)
g(lrkit.cyclic(0.1, 1.0, up_steps=10, mode="triangular2"), [(BIG, 0.1)])  # 0.5 ** (cycle - 1) underflows to 0

# -- one_cycle: initial 1/4 = 0.25, minimum 0.25/10 = 0.025; e1 = 0.25*100 - 1 = 24, end 99 ------
_oc = {"pct_start": 0.25, "div_factor": 4.0, "final_div_factor": 10.0}
g(
    lrkit.one_cycle(1.0, 100, anneal="linear", **_oc),
    [
        (0, 0.25),
        (12, 0.25 + 0.75 * 12 / 24),
        (23, 0.25 + 0.75 * 23 / 24),
        (24, 1.0),  # the peak at e1
        (25, 1.0 - 0.975 * 1 / 75),  # phase 2 runs from 24 to 99
        (98, 1.0 - 0.975 * 74 / 75),
        (99, 0.025),  # the minimum at total_steps - 1
        (100, 0.025),  # held after (torch raises past total_steps)
        (BIG, 0.025),
    ],
)
g(
    lrkit.one_cycle(1.0, 100, anneal="cos", **_oc),  # end + (start - end) / 2 * (cos(pi p) + 1)
    [
        (0, 0.25),
        (12, 1.0 + (0.25 - 1.0) / 2 * (math.cos(math.pi / 2) + 1)),
        (24, 1.0),
        (25, 0.025 + (1.0 - 0.025) / 2 * (math.cos(math.pi / 75) + 1)),
        (99, 0.025),
        (BIG, 0.025),
    ],
)
g(
    lrkit.one_cycle(1.0, 100, anneal="linear", three_phase=True, **_oc),  # ends 24, 2*25-2 = 48, 99
    [(24, 1.0), (36, 1.0 - 0.75 * 12 / 24), (48, 0.25), (49, 0.25 - 0.225 * 1 / 51), (99, 0.025), (BIG, 0.025)],
)

# -- noam: scale * d_model**-0.5 * min(t**-0.5, t * w**-1.5); d_model 16 -> 0.25, w = 4 -> w**-1.5 = 1/8 ----
g(
    lrkit.noam(16, warmup_steps=4),
    [
        (0, 0.0),
        (1, 0.25 / 8),
        (3, 0.25 * 3 / 8),
        (4, 0.125),  # peak: 0.25 * 4**-0.5
        (5, 0.25 / math.sqrt(5)),
        (16, 0.25 / 4),
        (BIG, 0.25 * 2**-20),
    ],
)
g(lrkit.noam(16, warmup_steps=4, scale=2.0), [(4, 0.25)])  # scale multiplies

# -- wsd: warmup 10, stable 20, decay 10; D = 30 -------------------------------------------
g(
    lrkit.wsd(1.0, 10, 20, 10),
    [
        (0, 0.0),
        (5, 0.5),
        (9, 0.9),
        (10, 1.0),
        (11, 1.0),
        (29, 1.0),
        (30, 1.0),  # D: the decay starts at p = 0
        (31, 0.9),
        (35, 0.5),
        (39, 1.0 - 0.9),
        (40, 0.0),
        (41, 0.0),
        (BIG, 0.0),
    ],
)
g(lrkit.wsd(1.0, 10, 20, 10, decay="cosine"), [(35, 0.5 * (1 + math.cos(math.pi / 2))), (40, 0.0)])
g(lrkit.wsd(1.0, 0, 0, 4, decay="1-sqrt"), [(0, 1.0), (1, 0.5), (4, 0.0), (BIG, 0.0)])  # 1 - sqrt(1/4)
g(lrkit.wsd(1.0, 10, 0, 10, floor=0.1, start_factor=0.5), [(0, 0.5), (5, 0.75), (10, 1.0), (15, 0.55), (20, 0.1)])

# -- tanh: floor + (value - floor)/2 * (1 - tanh(lower (1 - p) + upper p)) ------------------------
g(
    lrkit.tanh(1.0, steps=10),
    [
        (0, 0.5 * (1 - math.tanh(-7.0))),  # not exactly 1.0
        (5, 0.5 * (1 - math.tanh(-7.0 * 0.5 + 3.0 * 0.5))),
        (10, 0.5 * (1 - math.tanh(3.0))),
        (11, 0.5 * (1 - math.tanh(3.0))),
        (BIG, 0.5 * (1 - math.tanh(3.0))),
    ],
)


@pytest.mark.parametrize(("s", "t", "want"), GOLDEN, ids=[f"{s!r}@{t}" for s, t, _ in GOLDEN])
def test_golden(s: Schedule, t: int, want: float) -> None:
    got = s(t)
    assert isinstance(got, float)
    assert got == pytest.approx(want, rel=1e-12, abs=1e-15)
    # the same point through the vectorized path
    assert s(np.array([t]))[0] == pytest.approx(want, rel=1e-12, abs=1e-15)


def test_golden_exact_values() -> None:
    """Values that are exact in binary64 come out exact (no approx)."""
    assert lrkit.step(1.0, 10, 0.5)(20) == 0.25
    assert lrkit.multistep(1.0, [10, 20], 0.5)(20) == 0.25
    assert lrkit.piecewise_constant([10], [0.3, 0.1])(10) == 0.1
    assert lrkit.linear(0.0, 1.0, 4)(2) == 0.5
    assert lrkit.cosine(1.0, 100)(100) == 0.0
    assert lrkit.cosine(1.0, 100, floor=0.25)(100) == 0.25
    assert lrkit.noam(16, 4)(4) == 0.125
    assert lrkit.one_cycle(1.0, 100, **_oc)(24) == 1.0
    assert lrkit.wsd(1.0, 10, 20, 10)(40) == 0.0


@pytest.mark.parametrize("make", [lrkit.cosine, lrkit.polynomial])
@pytest.mark.parametrize("k", [0.0, -1.0, math.nan, math.inf])
def test_k_decay_must_be_positive(make: Callable[..., Schedule], k: float) -> None:
    with pytest.raises(ValueError, match=r"^k must .*got"):
        make(1.0, 100, k=k)
    with pytest.raises(TypeError, match=r"^k must be a real number"):
        make(1.0, 100, k="2")


def test_k_decay_needs_the_half_cosine() -> None:
    for kw in ({"cycles": 1.0}, {"periodic": True}):
        with pytest.raises(ValueError, match=r"k=2.0 .*cycles=0.5, periodic=False"):
            lrkit.cosine(1.0, 100, k=2.0, **kw)
    assert lrkit.cosine(1.0, 100, k=1.0, cycles=1.0)(50) == 0.0  # k = 1 is the plain cosine: no restriction


def test_k_decay_default_keeps_repr_and_mapping() -> None:
    # k = 1 is omitted everywhere, so specs and saved mappings from before k existed are unchanged.
    assert repr(lrkit.cosine(1.0, 100)) == "cosine(1.0, steps=100)"
    assert lrkit.cosine(1.0, 100).to_dict() == {
        "type": "cosine", "value": 1.0, "steps": 100, "floor": 0.0, "exponent": 1.0, "cycles": 0.5, "periodic": False
    }  # fmt: skip
    assert "k" not in lrkit.polynomial(1.0, 100).to_dict()
    s = lrkit.polynomial(1.0, 100, power=0.5, k=3)
    assert repr(s) == "polynomial(1.0, decay_steps=100, power=0.5, k=3.0)"
    assert s.to_dict()["k"] == 3.0
    assert lrkit.parse(repr(s)) == s and lrkit.from_dict(s.to_dict()) == s
    assert lrkit.from_dict(lrkit.cosine(1.0, 100).to_dict()) == lrkit.cosine(1.0, 100, k=1.0)


@pytest.mark.parametrize(
    "s", [lrkit.cosine(0.1, 1000, floor=0.001, k=1.7), lrkit.polynomial(0.1, 1000, 1e-4, power=0.7, k=0.3)]
)
def test_k_decay_on_every_backend(s: Schedule) -> None:
    t = np.arange(0, 1101, 7)
    # hand-derived: timm's lr_min + (lr_max - lr_min) * shape(t**k / T**k), held from T on
    q = np.minimum(t, 1000) ** s.k / 1000**s.k
    if isinstance(s, lrkit.cosine):
        want = 0.001 + 0.099 * 0.5 * (1 + np.cos(np.pi * q))
    else:
        want = 1e-4 + (0.1 - 1e-4) * (1 - q) ** 0.7
    np.testing.assert_allclose(s(t), want, rtol=1e-12, atol=0)
    scalar = np.array([s(int(x)) for x in t])  # the compiled scalar path
    assert (scalar == np.array([s._eval(float(x), lrkit._backend.SCALAR) for x in t])).all()
    np.testing.assert_allclose(scalar, want, rtol=1e-12, atol=0)  # libm and NumPy round cos and pow apart
    th = pytest.importorskip("torch")
    np.testing.assert_allclose(s(th.as_tensor(t)).numpy(), want, rtol=1e-12, atol=0)
    jnp = pytest.importorskip("jax.numpy")
    np.testing.assert_allclose(np.asarray(s(jnp.asarray(t, dtype=jnp.int32))), want, rtol=0, atol=4 * 2**-24 * 0.1)


def test_cyclic_far_after() -> None:
    # 2**40 mod 20 = 16: on the way down, x = 16/20, scale = (x - 1) / (0.5 - 1) = 0.4.
    # torch's formula computes x = 1 + t/C - cycle; at t/C ~ 5.5e10 a float64 resolves x to ~1e-5.
    assert BIG % 20 == 16
    assert lrkit.cyclic(0.1, 1.0, up_steps=10)(BIG) == pytest.approx(0.1 + 0.9 * 0.4, abs=1e-5)


def test_tanh_start_is_not_value() -> None:
    # Documented: s(0) = value * (1 - tanh(-7)) / 2 = 0.99999917, not value.
    assert lrkit.tanh(1.0, 10)(0) == pytest.approx(0.99999917, abs=1e-8)


# -- against the real torch schedulers ----------------------------------------------------------

torch = pytest.importorskip("torch")
S = torch.optim.lr_scheduler


def torch_lrs(make: Callable[[object], object], n: int, base_lr: float) -> np.ndarray:
    """The LR torch uses for update t (t = 0..n-1), reading it before each step as a training loop does."""
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=base_lr, momentum=0.9)
    sched = make(opt)
    out = []
    for _ in range(n):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return np.array(out)


def assert_matches_torch(s: Schedule, ref: np.ndarray, scale: float) -> None:
    got = s(np.arange(len(ref)))
    # torch accumulates some formulas recursively (lr * factor each step); a few ulps of the peak.
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-13 * scale)


N = 3000


@pytest.mark.parametrize(("step_size", "gamma"), [(7, 0.5), (1, 0.999), (1000, 0.1)])
def test_step_vs_torch_steplr(step_size: int, gamma: float) -> None:
    ref = torch_lrs(lambda o: S.StepLR(o, step_size, gamma), N, 0.1)
    assert_matches_torch(lrkit.step(0.1, step_size, gamma), ref, 0.1)


@pytest.mark.parametrize("milestones", [[10, 100, 2000], [10, 100, 100, 2000], [0, 5], [2999]])
def test_multistep_vs_torch_multisteplr(milestones: list[int]) -> None:
    ref = torch_lrs(lambda o: S.MultiStepLR(o, milestones, 0.3), N, 0.1)
    assert_matches_torch(lrkit.multistep(0.1, milestones, 0.3), ref, 0.1)


@pytest.mark.parametrize(("t_max", "eta_min"), [(N - 1, 0.0), (N - 1, 0.001), (1000, 0.01)])
def test_cosine_vs_torch_cosineannealing_up_to_t_max(t_max: int, eta_min: float) -> None:
    # The docstring claims equality up to T_max (torch's curve rises again after it; lrkit holds).
    ref = torch_lrs(lambda o: S.CosineAnnealingLR(o, t_max, eta_min), t_max + 1, 0.1)
    assert_matches_torch(lrkit.cosine(0.1, t_max, floor=eta_min), ref, 0.1)
    assert lrkit.cosine(0.1, t_max, floor=eta_min)(t_max + 1) == eta_min  # held, not rising


@pytest.mark.parametrize(("t0", "t_mult", "eta_min"), [(37, 1, 0.001), (10, 2, 0.0), (7, 3, 0.001), (1, 2, 0.0)])
def test_cosine_restarts_vs_torch_warm_restarts(t0: int, t_mult: int, eta_min: float) -> None:
    ref = torch_lrs(lambda o: S.CosineAnnealingWarmRestarts(o, t0, t_mult, eta_min), N, 0.1)
    assert_matches_torch(lrkit.cosine_restarts(0.1, t0, t_mul=float(t_mult), floor=eta_min), ref, 0.1)


@pytest.mark.parametrize("mode", ["triangular", "triangular2", "exp_range"])
@pytest.mark.parametrize(("up", "down"), [(13, 29), (20, None), (1, 1)])
def test_cyclic_vs_torch_cycliclr(mode: str, up: int, down: int | None) -> None:
    gamma = 0.999 if mode == "exp_range" else 1.0
    # torch computes triangular2's 1 / 2.0 ** (cycle - 1) and raises OverflowError from cycle 1025
    # (t = 2048 with 2-step cycles); lrkit's 0.5 ** (cycle - 1) underflows to 0 instead.
    n = 2000 if mode == "triangular2" else N
    ref = torch_lrs(lambda o: S.CyclicLR(o, 0.01, 0.1, up, down, mode, gamma), n, 0.01)
    assert_matches_torch(lrkit.cyclic(0.01, 0.1, up, down, mode, gamma), ref, 0.1)


@pytest.mark.parametrize(
    ("total", "pct", "anneal", "three"),
    [
        (3000, 0.3, "cos", False),
        (3000, 0.25, "linear", False),
        (2999, 0.3, "cos", True),
        (1001, 0.37, "linear", True),
        (100, 0.33, "cos", False),
        (7, 0.5, "cos", False),
        (10, 0.45, "linear", True),
    ],
)
def test_one_cycle_vs_torch_onecyclelr(total: int, pct: float, anneal: str, three: bool) -> None:
    kw = {"pct_start": pct, "anneal_strategy": anneal, "three_phase": three, "div_factor": 25.0}
    ref = torch_lrs(lambda o: S.OneCycleLR(o, 0.1, total_steps=total, final_div_factor=1e4, **kw), total, 0.1)
    s = lrkit.one_cycle(0.1, total, pct, anneal, 25.0, 1e4, three)
    assert_matches_torch(s, ref, 0.1)


def test_one_cycle_after_the_end_differs_from_torch_as_documented() -> None:
    # torch evaluates t = total_steps (the cosine past its minimum) and raises from total_steps + 1;
    # lrkit holds the minimum from total_steps - 1 on.
    total = 100
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.1)
    sched = S.OneCycleLR(opt, 0.1, total_steps=total)
    for _ in range(total):
        opt.step()
        sched.step()
    s = lrkit.one_cycle(0.1, total)
    assert s(total) == s(total - 1) == 0.1 / 25 / 1e4
    assert opt.param_groups[0]["lr"] > s(total - 1)  # torch at t = total: the cosine past its minimum
    with pytest.raises(ValueError):
        opt.step()
        sched.step()


@pytest.mark.parametrize(("start_factor", "iters"), [(1 / 3, 100), (0.01, 500), (0.5, 1)])  # torch needs > 0
def test_linear_vs_torch_linearlr(start_factor: float, iters: int) -> None:
    ref = torch_lrs(lambda o: S.LinearLR(o, start_factor, 1.0, iters), N, 0.1)
    assert_matches_torch(lrkit.linear(0.1 * start_factor, 0.1, iters), ref, 0.1)


def test_exponential_and_polynomial_vs_torch() -> None:
    ref = torch_lrs(lambda o: S.ExponentialLR(o, 0.999), N, 0.1)
    assert_matches_torch(lrkit.exponential(0.1, 1, 0.999), ref, 0.1)
    ref = torch_lrs(lambda o: S.PolynomialLR(o, 1000, 2.0), N, 0.1)
    assert_matches_torch(lrkit.polynomial(0.1, 1000, 0.0, 2.0), ref, 0.1)
