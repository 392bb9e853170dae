"""A classifier training job, the same wherever it runs: in a server's thread or a Ray worker.

`train_models` trains one model per config in sequence and reports `Phase` and `Tick` items;
`JobSpec` is everything it needs, as plain picklable data (no closures), so a cluster's
worker can run it (page scripts cannot be pickled: streamlit #8957).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # torch loads when a job starts
    from nameclf.classify.pipeline import Prepared, Run
    from nameclf.classify.train import Progress


@dataclass
class Tick:
    """One progress report: which model of the job, and its training Progress."""

    model: int
    progress: Progress


@dataclass
class Phase:
    """Reported as a model of the job starts: the panel shows it working before any step
    (an n-gram fit has no steps at all), never the previous model's "0 s left"."""

    model: int
    started: float  # time.monotonic() when it started


@dataclass
class JobSpec:
    """One classifier job: the prepared data, a config per model, and the run's record."""

    prep: Prepared
    model_cfgs: list  # classify.config.ModelConfig, one per model, trained in order
    train_cfg: Any  # classify.config.TrainConfig
    info: dict = field(default_factory=dict)  # what each run records about its data
    threads: int = 1  # torch's intra-op threads for the job (a worker process sets them)


# (model index, its Progress without the model, the model itself or None, seconds the whole
# job still expects to hold its slot)
StepHook = Callable[[int, "Progress", Any, float], None]


def train_models(spec: JobSpec, report: Callable[[Any], None], stop: Any,
                 on_step: StepHook | None = None) -> list[Run]:
    """Train each model of `spec` in turn; stops between models once one is kept."""
    from nameclf.classify.pipeline import fit

    started = time.monotonic()
    out = []
    n = len(spec.model_cfgs)

    def callback(i: int, p: Progress) -> None:
        model, p = p.model, replace(p, model=None)  # a tick keeps numbers, not the model
        report(Tick(i, p))
        if on_step is not None:
            held = time.monotonic() - started
            on_step(i, p, model, held + p.eta + (n - i - 1) * (p.elapsed + p.eta))

    for i, model_cfg in enumerate(spec.model_cfgs):
        if stop.is_set() and out:
            break
        report(Phase(i, time.monotonic()))
        # the n-gram baseline fits in one go, with no half-fitted model a budget could keep:
        # it gets no time budget (Stop still ends it)
        limit = 0.0 if model_cfg.cell == "ngram" else spec.train_cfg.time_budget
        run = fit(spec.prep, model_cfg, replace(spec.train_cfg, time_budget=limit), stop=stop,
                  info=dict(spec.info), callback=lambda p, i=i: callback(i, p))
        out.append(run)
    return out
