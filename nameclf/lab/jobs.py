"""The lab's background jobs as plain picklable work: the same object runs in a server's thread
or on a Ray worker (nameclf.serve.engine's `Engine.run`).

Each job is a dataclass of its inputs whose call, `job(report, stop)`, does the work and returns
its result; none is a closure, because a page script's closures cannot be pickled
(streamlit #8957). The classifier's jobs are nameclf.serve.train_job.JobSpec.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from nameclf.classify.config import ModelConfig, TrainConfig
from nameclf.errors import ConfigError
from nameclf.lab.batch_race import BatchRaceConfig
from nameclf.lab.gradnoise import NoiseConfig
from nameclf.lab.race import RaceConfig

Report = Callable[[Any], None]


@dataclass
class SpeedRace:
    """The Speed race: per-sample against batched training of one model on the same names;
    returns names/s per contestant. Each report carries the wall time `at` it was made."""

    model_cfg: ModelConfig
    enc: Any  # nameclf.batching.batches.Encoded
    cfg: RaceConfig
    threads: int = 1

    def __call__(self, report: Report, stop: threading.Event) -> dict[str, float]:
        from nameclf.lab.race import race

        return race(self.model_cfg, self.enc, self.cfg,
                    report=lambda item: report({**item, "at": time.time()}), stop=stop)


@dataclass
class BatchSizeRace:
    """Steps and seconds to a held-out loss at each batch size (nameclf.lab.batch_race)."""

    model_cfg: ModelConfig
    train_cfg: TrainConfig
    train: Any  # Encoded training names
    test: Any  # Encoded held-out names
    cfg: BatchRaceConfig
    threads: int = 1

    def __call__(self, report: Report, stop: threading.Event) -> dict:
        from nameclf.lab.batch_race import race_batch_sizes

        return race_batch_sizes(self.model_cfg, self.train_cfg, self.train, self.test, self.cfg,
                                report, stop)


@dataclass
class NoiseMeasurement:
    """Gradient noise against batch size at the first weights and then trained: at a run's
    own weights (`run`, its id and its training names in `pool`), or else after a quick run
    of `quick_steps` from `model_cfg`. Returns {"curves": {label: measurement}, "source"}."""

    cfg: NoiseConfig
    pool: Any  # Encoded names the gradients are measured on
    run: Any = None  # the visitor's run (a copy, on the CPU), or None
    run_id: str = ""
    model_cfg: ModelConfig | None = None  # the quick run's, when there is no run
    train_cfg: TrainConfig | None = None
    quick_steps: int = 600
    quick_name: str = ""  # what the quick run is called ("fast")
    threads: int = 1

    def __call__(self, report: Report, stop: threading.Event) -> dict:
        import torch

        from nameclf.classify.mixture import recurrent_config
        from nameclf.classify.model import NameClassifier
        from nameclf.lab.gradnoise import measure_noise, train_steps

        def measure(label: str, model: Any) -> dict:
            return measure_noise(model, self.pool, self.cfg, report=lambda item: report(
                {"phase": "measure", "label": label, **item}), stop=stop).to_dict()

        if self.run is not None:
            torch.manual_seed(self.run.train_config.seed)
            first = NameClassifier(recurrent_config(self.run.model_config))
            curves = {"at init": measure("at init", first)}
            label = f"trained ({self.run_id})"
            curves[label] = measure(label, self.run.model)
            return {"curves": curves, "source": f"your run {self.run_id}"}
        if self.model_cfg is None or self.train_cfg is None:
            raise ConfigError("no run to measure and no settings for a quick one")
        torch.manual_seed(self.train_cfg.seed)
        model = NameClassifier(self.model_cfg)
        curves = {"at init": measure("at init", model)}
        taken = train_steps(model, self.pool, self.train_cfg, self.quick_steps, stop,
                            report=lambda item: report({"phase": "train", **item}))
        if stop.is_set():
            raise ConfigError("stopped")
        label = f"after {taken} steps"
        curves[label] = measure(label, model)
        return {"curves": curves, "source": f"a quick {self.quick_name} run of {taken} steps"}


@dataclass
class GeneratorTraining:
    """A generator and its n-gram LM trained on prepared names (nameclf.generate.train)."""

    prep: Any  # nameclf.generate.batches.GenPrepared
    model_cfg: Any  # GeneratorConfig
    train_cfg: Any  # GenTrainConfig
    info: dict
    threads: int = 1

    def __call__(self, report: Report, stop: threading.Event) -> Any:
        from nameclf.generate.train import fit_generator

        return fit_generator(self.prep, self.model_cfg, self.train_cfg, report, stop,
                             dict(self.info), phase=report)
