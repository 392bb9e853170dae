"""Aggregated gradients, measured: what a batch of B names does to the noise of a gradient.

At the model's current weights, on a pool of N training names:

- G, the gradient of the mean loss over the whole pool;
- for each batch size B, K draws of B names without replacement: the mean of |g_B - G|²,
  and the mean cosine of g_B with G;
- the log-log slope of that error against B (statistics says -1: the variance of a mean of B
  independent draws is the variance of one, over B);
- McCandlish et al.'s (2018) noise scale B_simple = tr(Σ)/|G|², by their estimator from the
  squared norms of gradients at two batch sizes, and, as a check, from the B = 1 error and G;
- the accumulation check: one batch of 512 against 8 accumulated batches of 64.

A finite pool bends the slope: B names drawn without replacement from N vary less than B
independent draws, by the factor (N - B)/(N - 1) (the finite-population correction; 0.875 at
B = 512 of 4,096). `mse_corrected` divides it out, and the slope and estimators use it.

The gradients come from the model's own training path (packed batches, its hand-written cells
on a CPU), in eval mode so that dropout adds no noise of its own, on the plain mean NLL.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING

from nameclf.errors import ConfigError

if TYPE_CHECKING:  # torch loads when a measurement runs: the page draws its form first
    import torch

    from nameclf.batching.batches import Encoded

BATCH_SIZES = tuple(2**k for k in range(10))  # 1, 2, 4, ..., 512
ACCUMULATE = (512, 64)  # one batch of 512 against 512/64 = 8 accumulated batches of 64


@dataclass(frozen=True)
class NoiseConfig:
    """How to measure the gradient noise at one set of weights."""

    pool: int = 4096  # training names the gradients are drawn from (G is their mean)
    draws: int = 32  # batches drawn per batch size
    batch_sizes: tuple[int, ...] = BATCH_SIZES
    seed: int = 0  # which pool and which draws
    leaf: int = 64  # batches of this many names or a multiple are built from leaves of it

    def __post_init__(self) -> None:
        if self.pool < 2:
            raise ConfigError("the gradient noise needs a pool of at least 2 names")
        if self.draws < 2:
            raise ConfigError("the gradient noise needs at least 2 draws per batch size")
        if not self.batch_sizes or min(self.batch_sizes) < 1:
            raise ConfigError("batch sizes must be positive whole numbers")
        if self.leaf < 1:
            raise ConfigError("leaf must be at least 1")


@dataclass
class NoiseResult:
    """One measurement, as plain numbers (`to_dict` is the CLI's JSON)."""

    batch_sizes: list[int]
    mse: list[float]  # mean over draws of |g_B - G|², as measured
    mse_corrected: list[float]  # the same over (N - B)/(N - 1): as if drawn independently
    cosine: list[float]  # mean cosine of g_B with G
    slope: float  # least-squares slope of log mse_corrected against log B
    g_norm2: float  # |G|², exact from the pool
    trace_sigma: float  # tr(Σ), per name, by McCandlish's two-batch-size estimator
    b_simple: float  # tr(Σ)/|G|², both from the estimator
    b_simple_from_b1: float  # the B = 1 error (corrected) over the exact |G|²
    accumulation_max_rel_diff: float | None  # |g_512 - g_acc| / |g_512|; None: pool < 512
    pool: int
    draws: int
    seconds: float  # wall time of the measurement
    estimator_batch_sizes: tuple[int, int] = (0, 0)  # the two batch sizes B_simple came from
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def usable_batch_sizes(batch_sizes: tuple[int, ...], pool: int) -> tuple[list[int], list[str]]:
    """The batch sizes a pool can give (sorted, distinct), and a note for those dropped."""
    keep = sorted({b for b in batch_sizes if b <= pool})
    dropped = sorted({b for b in batch_sizes if b > pool})
    notes = []
    if dropped:
        notes.append(f"batch sizes {', '.join(map(str, dropped))} are larger than the pool of "
                     f"{pool} names: dropped")
    if len(keep) < 2:
        raise ConfigError(f"at most one of the batch sizes fits a pool of {pool} names: "
                          "a slope needs two")
    return keep, notes


def finite_pool(b: int, n: int) -> float:
    """(N - B)/(N - 1): how much less B names drawn without replacement from N vary."""
    return (n - b) / (n - 1)


def loglog_slope(xs: list[float], ys: list[float]) -> float:
    """Least-squares slope of log y against log x (points with y <= 0 are skipped)."""
    pts = [(math.log(x), math.log(y)) for x, y in zip(xs, ys, strict=True) if y > 0 and x > 0]
    if len(pts) < 2:
        return float("nan")
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx if sxx else float("nan")


def noise_scale(sq_small: float, b_small: int, sq_big: float, b_big: int,
                n: int | None = None) -> tuple[float, float]:
    """McCandlish et al.'s unbiased estimator (their appendix A.1): |G|² and tr(Σ).

    E|g_B|² = |G|² + tr(Σ)/B for independent draws; two batch sizes give two equations. From
    a pool of `n` names drawn without replacement, 1/B becomes (N - B)/(B (N - 1))."""
    c_small = 1 / b_small * (finite_pool(b_small, n) if n else 1.0)
    c_big = 1 / b_big * (finite_pool(b_big, n) if n else 1.0)
    if c_small == c_big:
        raise ConfigError("the estimator needs two different batch sizes")
    trace = (sq_small - sq_big) / (c_small - c_big)
    return sq_big - trace * c_big, trace


def noise_curve(grad_of: Callable[[torch.Tensor], torch.Tensor], n: int, cfg: NoiseConfig,
                report: Callable[[dict], None] | None = None,
                stop: threading.Event | None = None) -> NoiseResult:
    """The measurement for any `grad_of(indices) -> mean gradient of those examples` over a
    pool of `n` examples. Raises ConfigError when stopped (there is no half a result).

    Batches of `cfg.leaf` names or more are built from disjoint leaves of a random order of
    the pool: the gradient of 2 x 64 names is the mean of two gradients of 64, so each
    shuffle's leaves give every larger batch size (and G) with no more backward passes."""
    import torch

    start = time.perf_counter()
    sizes, notes = usable_batch_sizes(cfg.batch_sizes, n)
    gen = torch.Generator().manual_seed(cfg.seed)
    leaf = cfg.leaf if cfg.leaf <= n else n
    blocked = [b for b in sizes if b % leaf == 0 and b < n]

    def check() -> None:
        if stop is not None and stop.is_set():
            raise ConfigError("stopped")

    per_shuffle = n // leaf  # leaves of one random order of the pool
    shuffles = max([math.ceil(cfg.draws / (per_shuffle // (b // leaf))) for b in blocked] or [1])
    leaves, g_full = [], None  # leaves: per shuffle, (n // leaf, P) gradients
    for s in range(shuffles):
        order = torch.randperm(n, generator=gen)
        grads = []
        for part in order[: per_shuffle * leaf].split(leaf):
            check()
            grads.append(grad_of(part))
        leaves.append(torch.stack(grads))  # (n // leaf, P)
        if s == 0:  # G: every leaf of the first order, and the names left over
            rest = order[per_shuffle * leaf :]
            g_full = leaves[0].sum(0) * leaf
            if len(rest):
                g_full = g_full + grad_of(rest) * len(rest)
            g_full = g_full / n  # (P,)
    g_norm2 = float(g_full.double().square().sum())

    def draws_of(b: int, limit: int | None = cfg.draws) -> list[torch.Tensor]:
        if b % leaf == 0 and b < n:  # consecutive leaves of each order: disjoint batches of b names
            m = b // leaf
            return [row.mean(0) for shuffle in leaves
                    for row in shuffle[: len(shuffle) // m * m].view(-1, m, shuffle.shape[1])
                    ][:limit]
        out = []
        for _ in range(cfg.draws):
            check()
            out.append(grad_of(torch.randperm(n, generator=gen)[:b]))  # b names, no repeats
        return out

    mse, cosine, sq_norm = [], [], []
    for done, b in enumerate(sizes):
        gs = torch.stack(draws_of(b)).double()  # (K, P)
        ref = g_full.double()
        mse.append(float((gs - ref).square().sum(1).mean()))
        sq_norm.append(float(gs.square().sum(1).mean()))
        cosine.append(float(torch.nn.functional.cosine_similarity(gs, ref[None], dim=1).mean()))
        if report is not None:
            report({"batch_size": b, "done": done + 1, "of": len(sizes)})
    corrected = [m / finite_pool(b, n) if b < n else float("nan") for m, b in zip(mse, sizes)]
    big = max(i for i, b in enumerate(sizes) if b < n)  # B = N has no noise left to compare
    # the estimator's large batch: as large as the shuffles allow (half the pool), every draw
    # of it. Late in training B_simple nears the pool's size, and |g_512|² is then mostly noise
    b_est = sizes[big]
    while b_est * 2 % leaf == 0 and b_est * 2 <= n // 2 and b_est * 2 <= per_shuffle * leaf // 2:
        b_est *= 2
    sq_est = (sq_norm[big] if b_est == sizes[big] else
              float(torch.stack(draws_of(b_est, None)).double().square().sum(1).mean()))
    est_g2, trace = noise_scale(sq_norm[0], sizes[0], sq_est, b_est, n)
    if est_g2 <= 0:
        notes.append("the estimated |G|² came out at or below 0 (too few draws for so noisy "
                     "a gradient): B_simple from the estimator is not meaningful here")
    from_b1 = corrected[0] * sizes[0] / g_norm2 if g_norm2 > 0 else float("inf")
    return NoiseResult(sizes, mse, corrected, cosine,
                       loglog_slope([float(b) for b in sizes[: big + 1]], corrected[: big + 1]),
                       g_norm2, trace, trace / est_g2 if est_g2 > 0 else float("nan"), from_b1,
                       None, n, cfg.draws, time.perf_counter() - start, (sizes[0], b_est),
                       notes)


# ---------------------------------------------------------------------------- a classifier


def flat_grad(model: torch.nn.Module) -> torch.Tensor:
    """Every parameter's .grad as one vector (P,); zeros where a parameter got none."""
    import torch

    return torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1)
                      for p in model.parameters()])


def batch_gradient(model: torch.nn.Module, enc: Encoded, sel: torch.Tensor,
                   accumulate: int = 0) -> torch.Tensor:
    """The gradient (P,) of the mean NLL over names `sel`, as a training step computes it.

    With `accumulate` = k, the same names go through in batches of k: each backward adds its
    batch's summed loss over len(sel) to the gradients (gradient accumulation)."""
    from nameclf.batching.batches import take

    model.zero_grad(set_to_none=True)
    parts = sel.split(accumulate) if accumulate else [sel]
    for part in parts:
        idx, lengths, y = take(enc, part)  # (T, B), (B,), (B,)
        logp = model(idx, lengths)  # (B, C)
        (-logp.gather(1, y[:, None]).sum() / len(sel)).backward()
    g = flat_grad(model).detach().clone()
    model.zero_grad(set_to_none=True)
    return g


def per_example_gradients(model: torch.nn.Module, enc: Encoded,
                          sel: torch.Tensor) -> torch.Tensor:
    """Each name's own gradient (B, P), one packed batch of one name at a time."""
    import torch

    return torch.stack([batch_gradient(model, enc, sel[i : i + 1]) for i in range(len(sel))])


def accumulation_check(model: torch.nn.Module, enc: Encoded, sel: torch.Tensor,
                       micro: int) -> float:
    """|g - g_acc| / |g|: one batch of `sel` against accumulated batches of `micro` names."""
    whole = batch_gradient(model, enc, sel)
    accumulated = batch_gradient(model, enc, sel, accumulate=micro)
    return float((whole - accumulated).norm() / whole.norm().clamp(min=1e-30))


def pool_of(enc: Encoded, n: int, seed: int) -> Encoded:
    """`n` training names drawn at random (all of them when there are fewer)."""
    from nameclf.lab.race import subset

    return subset(enc, min(n, len(enc)), seed)


def measure_noise(model: torch.nn.Module, enc: Encoded, cfg: NoiseConfig = NoiseConfig(),
                  report: Callable[[dict], None] | None = None,
                  stop: threading.Event | None = None) -> NoiseResult:
    """The gradient noise of a recurrent classifier at its current weights (unchanged)."""
    import torch

    from nameclf.classify.mixture import recurrent_net

    model = recurrent_net(model)  # a mixture's n-gram half has no gradient: measure its net
    if model is None:
        raise ConfigError("the n-gram baseline is counted, not trained by gradients: "
                          "measure a recurrent model (RNN, LSTM or GRU)")
    if len(enc) < 2:
        raise ConfigError("the gradient noise needs a pool of at least 2 names")
    start = time.perf_counter()
    pool = pool_of(enc, cfg.pool, cfg.seed)
    was_training = model.training
    model.eval()  # no dropout: the only noise measured is which names are drawn
    try:
        result = noise_curve(lambda sel: batch_gradient(model, pool, sel), len(pool), cfg,
                             report, stop)
        big, micro = ACCUMULATE
        if len(pool) >= big:
            sel = torch.randperm(len(pool), generator=torch.Generator().manual_seed(cfg.seed))
            result.accumulation_max_rel_diff = accumulation_check(model, pool, sel[:big], micro)
        else:
            result.notes.append(f"the accumulation check needs a pool of {big} names")
    finally:
        model.train(was_training)
    result.seconds = time.perf_counter() - start
    if len(pool) < cfg.pool:
        result.notes.insert(0, f"the training split has {len(pool)} names: the pool is all of "
                               "them")
    return result


def run_of_at_least(cfg, n: int, steps: int):
    """`cfg`'s run on `n` names, as long as it would be, or `steps` if that is longer: the
    schedule of a run that gets to step `steps`."""
    from nameclf.classify.config import total_steps

    whole = total_steps(n, cfg.batch_size, cfg.steps, cfg.epochs, cfg.max_names)
    return replace(cfg, steps=max(whole, steps), eval_every=0)


def train_steps(model: torch.nn.Module, enc: Encoded, cfg, steps: int,
                stop: threading.Event | None = None,
                report: Callable[[dict], None] | None = None) -> int:
    """Train `model` in place for the first `steps` steps of the run `cfg` describes (its
    schedule as long as the whole run's, `run_of_at_least`), so it is where that run is after
    `steps` steps. Returns the steps taken (fewer when stopped)."""
    from nameclf.classify.train import train

    halt = threading.Event()

    def on_step(p) -> None:
        if report is not None:
            report({"step": p.step, "of": min(steps, p.total_steps), "loss": p.running_loss})
        if p.step >= steps or (stop is not None and stop.is_set()):
            halt.set()

    return train(model, enc, run_of_at_least(cfg, len(enc), steps), callback=on_step,
                 stop=halt).steps
