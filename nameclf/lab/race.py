"""The batching race: per-sample vs padded vs packed training of one model on the same names.

On a CPU a fourth contestant, `packed-torch`, trains the same packed batches with PyTorch's
own `nn.RNN/LSTM/GRU` instead of nameclf's hand-written cells (nameclf.classify.recurrence): same
weights, same maths, different speed.

The contestants take turns: each round gives every one of them a slice of its seconds, so a
machine that gets busier halfway through slows them all alike and the ratios stay fair.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from nameclf.classify.config import BATCHING_MODES, ModelConfig, TrainConfig

if TYPE_CHECKING:  # torch loads when a race runs: the Speed race page draws its form first
    import torch

    from nameclf.batching.batches import Encoded

# contestant -> (batching mode, kernel)
CONTESTANTS = {mode: (mode, "auto") for mode in BATCHING_MODES} | {"packed-torch":
                                                                    ("packed", "torch")}


@dataclass
class RaceConfig:
    """How long and on what to race the batching modes."""

    n_names: int = 256  # the same names for every mode
    batch_size: int = 256  # names per optimizer step (per-sample loops over them one by one)
    seconds: float = 2.0  # time spent on each mode in all, after one warm-up step
    rounds: int = 4  # turns each mode takes, in the same order every round
    seed: int = 0


def subset(enc: Encoded, n: int, seed: int = 0) -> Encoded:
    """The same `n` random names for every contestant."""
    import torch

    from nameclf.batching.batches import Encoded

    sel = torch.randperm(len(enc), generator=torch.Generator().manual_seed(seed))[:n]
    lengths = enc.lengths[sel]
    dev_sel = sel.to(enc.idx.device)
    return Encoded(enc.idx[dev_sel, : int(lengths.max())], lengths, enc.labels[dev_sel])


def contestants(model_cfg: ModelConfig, device: torch.device | str) -> tuple[str, ...]:
    """Who races this model: padded only one-way, packed-torch only where it differs."""
    out = tuple(CONTESTANTS)
    if model_cfg.bidirectional:
        out = tuple(m for m in out if m != "padded")  # padded is exact one-way only
    hand_written = model_cfg.num_layers == 1 and str(device).split(":")[0] == "cpu"
    return out if hand_written else tuple(m for m in out if m != "packed-torch")


def race(model_cfg: ModelConfig, enc: Encoded, cfg: RaceConfig,
         modes: tuple[str, ...] | None = None,
         report: Callable[[dict], None] | None = None,
         stop: threading.Event | None = None) -> dict[str, float]:
    """Names per second of each contestant training the same model on the same names.

    After one warm-up step each, the contestants take `cfg.rounds` turns of
    `cfg.seconds / cfg.rounds` each; a mode's speed is all its names over all its time.
    `report` hears each turn: mode, turn `done` of `of`, and the mode's speed so far.
    """
    import torch

    from nameclf.classify.model import NameClassifier
    from nameclf.classify.train import train

    names = subset(enc, cfg.n_names, cfg.seed)
    allowed = contestants(model_cfg, enc.idx.device)
    modes = allowed if modes is None else tuple(m for m in modes if m in allowed)
    models, configs = {}, {}
    for mode in modes:
        torch.manual_seed(cfg.seed)
        models[mode] = NameClassifier(model_cfg).to(enc.idx.device)
        batching, kernel = CONTESTANTS[mode]
        base = TrainConfig(optimizer="sgd", lr=0.01, batch_size=cfg.batch_size, steps=1,
                           sampling="epoch", batching=batching, kernel=kernel, eval_every=0,
                           seed=cfg.seed)
        train(models[mode], names, base, stop=stop)  # warm-up: first calls allocate, dispatch
        configs[mode] = replace(base, steps=10_000_000,
                                time_budget=cfg.seconds / max(1, cfg.rounds))
    seen = dict.fromkeys(modes, 0)
    seconds = dict.fromkeys(modes, 0.0)
    turns = len(modes) * max(1, cfg.rounds)
    for turn in range(turns):
        if stop is not None and stop.is_set():
            break
        mode = modes[turn % len(modes)]
        result = train(models[mode], names, configs[mode], stop=stop)
        seen[mode] += result.names_per_second * result.seconds  # names trained
        seconds[mode] += result.seconds
        if report is not None and seconds[mode]:
            report({"mode": mode, "done": turn + 1, "of": turns,
                    "names_per_second": seen[mode] / seconds[mode]})
    return {m: seen[m] / seconds[m] for m in modes if seconds[m] > 0}

