"""The batching race: per-sample vs padded vs packed training of one model on the same names."""

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

import torch

from nameclf.batches import Encoded
from nameclf.model import ModelConfig, NameClassifier
from nameclf.train import BATCHING_MODES, TrainConfig, train


@dataclass
class RaceConfig:
    """How long and on what to race the batching modes."""

    n_names: int = 256  # the same names for every mode
    batch_size: int = 256  # names per optimizer step (per-sample loops over them one by one)
    seconds: float = 2.0  # time spent on each mode, after one warm-up step
    seed: int = 0


def subset(enc: Encoded, n: int, seed: int = 0) -> Encoded:
    """The same `n` random names for every contestant."""
    sel = torch.randperm(len(enc), generator=torch.Generator().manual_seed(seed))[:n]
    lengths = enc.lengths[sel]
    dev_sel = sel.to(enc.idx.device)
    return Encoded(enc.idx[dev_sel, : int(lengths.max())], lengths, enc.labels[dev_sel])


def race(model_cfg: ModelConfig, enc: Encoded, cfg: RaceConfig,
         modes: tuple[str, ...] = BATCHING_MODES,
         report: Callable[[dict], None] | None = None,
         stop: threading.Event | None = None) -> dict[str, float]:
    """Names per second of each batching mode training the same model on the same names."""
    names = subset(enc, cfg.n_names, cfg.seed)
    if model_cfg.bidirectional:
        modes = tuple(m for m in modes if m != "padded")  # padded is exact one-way only
    speeds: dict[str, float] = {}
    for i, mode in enumerate(modes):
        torch.manual_seed(cfg.seed)
        model = NameClassifier(model_cfg).to(enc.idx.device)
        base = TrainConfig(optimizer="sgd", lr=0.01, batch_size=cfg.batch_size, steps=1,
                           sampling="epoch", batching=mode, eval_every=0, seed=cfg.seed)
        train(model, names, base, stop=stop)  # warm-up: first calls allocate and dispatch
        if stop is not None and stop.is_set():
            break
        timed = replace(base, steps=10_000_000, time_budget=cfg.seconds)
        result = train(model, names, timed, stop=stop)
        speeds[mode] = result.names_per_second
        if report is not None:
            report({"mode": mode, "done": i + 1, "of": len(modes),
                    "names_per_second": result.names_per_second})
    return speeds


def ratios(speeds: dict[str, float]) -> dict[str, float]:
    """Speed-ups over per-sample and packed over padded, where both were measured."""
    out = {}
    base = speeds.get("per-sample")
    for mode in ("padded", "packed"):
        if base and mode in speeds:
            out[f"{mode.replace('-', '_')}_over_per_sample"] = speeds[mode] / base
    if "padded" in speeds and "packed" in speeds:
        out["packed_over_padded"] = speeds["packed"] / speeds["padded"]
    return out
