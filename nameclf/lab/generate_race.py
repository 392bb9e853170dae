"""The output-side batching race: per-sample vs padded (masked) vs packed training of one
generator on the same names, and what the unmasked loss would have said about the batch."""

import threading
from dataclasses import dataclass

import torch

from nameclf.generate.batches import LmData, take
from nameclf.generate.config import GEN_BATCHING, GeneratorConfig, GenTrainConfig
from nameclf.generate.loss import loss_report
from nameclf.generate.model import NameGenerator
from nameclf.generate.train import train_generator
from nameclf.lab.speedups import ratios


@dataclass
class GenRaceConfig:
    """How long and on what to race."""

    n_names: int = 256  # the same names for every mode
    batch_size: int = 64  # names per optimizer step
    seconds: float = 3.0  # per mode, after one warm-up step
    seed: int = 0


def subset(data: LmData, n: int, seed: int = 0) -> LmData:
    """The same `n` random names for every mode."""
    sel = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))[:n]
    lengths = data.lengths[sel]
    dev = sel.to(data.inputs.device)
    width = int(lengths.max())
    return LmData(data.inputs[dev, :width], data.targets[dev, :width], lengths,
                  data.labels[dev])


def race(model_cfg: GeneratorConfig, data: LmData, cfg: GenRaceConfig,
         modes: tuple[str, ...] = GEN_BATCHING, report=None,
         stop: threading.Event | None = None) -> dict:
    """Names per second of each mode training the same generator on the same names."""
    names = subset(data, cfg.n_names, cfg.seed)
    speeds: dict[str, float] = {}
    for mode in modes:
        torch.manual_seed(cfg.seed)
        model = NameGenerator(model_cfg).to(data.inputs.device)
        base = GenTrainConfig(optimizer="sgd", lr=0.01, batch_size=cfg.batch_size, steps=1,
                              sampling="epoch", batching=mode, eval_every=0, seed=cfg.seed,
                              schedule="constant")
        train_generator(model, names, base, stop=stop)  # warm-up
        if stop is not None and stop.is_set():
            break
        timed = GenTrainConfig(**{**base.__dict__, "steps": 10_000_000,
                                  "time_budget": cfg.seconds})
        speeds[mode] = train_generator(model, names, timed, stop=stop).names_per_second
        if report is not None:
            report({"mode": mode, "names_per_second": speeds[mode]})
    torch.manual_seed(cfg.seed)
    model = NameGenerator(model_cfg).to(data.inputs.device)
    losses = loss_report(model, take(names, torch.arange(min(cfg.batch_size, len(names)))))
    losses.pop("cell_losses")
    return {"names_per_second": speeds, "ratios": ratios(speeds), "first_batch": losses}

