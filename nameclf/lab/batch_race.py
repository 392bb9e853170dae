"""The batch-size race: what the gradient noise means for training (Shallue et al., 2018).

The same model from the same first weights, on the same names, trained at several batch sizes
until its held-out loss reaches a target, or until it has seen `max_examples` names. Larger
batches cut the steps needed, in proportion while the batch is well below the gradient noise
scale (perfect scaling), then less and less (diminishing returns); per second they keep
gaining only while the machine has idle cores to fill. The learning rate of each batch size
follows one stated rule, the square-root rule from `fast`'s rate at its own batch size.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING

from nameclf.classify.config import ModelConfig, TrainConfig
from nameclf.errors import ConfigError

if TYPE_CHECKING:
    import torch

    from nameclf.batching.batches import Encoded

BATCH_SIZES = (1, 16, 128, 512)


@dataclass(frozen=True)
class BatchRaceConfig:
    """What the race trains and when each batch size stops."""

    batch_sizes: tuple[int, ...] = BATCH_SIZES
    max_examples: int = 80_000  # names seen before a batch size is called "not reached"
    target_loss: float | None = None  # None: fast's held-out loss after `pace_steps` steps
    pace_steps: int = 600  # the target run: fast's first 600 steps (its own schedule)
    base_lr: float = 0.005  # fast's peak rate, at ...
    base_batch: int = 64  # ... fast's batch size
    eval_every_examples: int = 2048  # held-out loss every this many names seen
    held_out: int = 1024  # names the held-out loss is measured on
    lane_seconds: float = 45.0  # training seconds per batch size at most (0: no limit): one
    # name per step, 80,000 steps take minutes on a CPU
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.batch_sizes or min(self.batch_sizes) < 1:
            raise ConfigError("batch sizes must be positive whole numbers")
        if self.lane_seconds < 0 or self.pace_steps < 1:
            raise ConfigError("lane seconds must be 0 or more and pace steps at least 1")
        if self.max_examples < 1 or self.eval_every_examples < 1 or self.held_out < 1:
            raise ConfigError("max examples, evaluation interval and held-out names must be "
                              "at least 1")
        if self.target_loss is not None and not (math.isfinite(self.target_loss)
                                                 and self.target_loss > 0):
            raise ConfigError("the target loss must be a positive number")


def lr_for(batch_size: int, cfg: BatchRaceConfig) -> float:
    """The square-root rule: lr(B) = base_lr * sqrt(B / base_batch)."""
    return cfg.base_lr * math.sqrt(batch_size / cfg.base_batch)


def rule_text(cfg: BatchRaceConfig) -> str:
    """The learning-rate rule, in words, for the page and the JSON."""
    return (f"lr(B) = {cfg.base_lr:g} × √(B / {cfg.base_batch}): the square-root rule from "
            f"fast's rate at its batch of {cfg.base_batch}, constant, AdamW, clipped at 1")


@dataclass
class Lane:
    """One batch size's run: its curve and whether and when it reached the target."""

    batch_size: int
    lr: float
    examples: list[int] = field(default_factory=list)  # names seen at each evaluation
    seconds: list[float] = field(default_factory=list)  # training seconds then
    loss: list[float] = field(default_factory=list)  # held-out loss then
    reached: bool = False
    steps_to_target: int | None = None
    examples_to_target: int | None = None
    seconds_to_target: float | None = None
    names_per_second: float = 0.0
    status: str = "waiting"  # waiting | running | reached | not reached | out of time | stopped


def held_out_loss(model: torch.nn.Module, enc: Encoded) -> float:
    """Mean NLL of `enc`'s names, in eval mode (one packed batch)."""
    import torch

    from nameclf.batching.batches import take

    was = model.training
    model.eval()
    with torch.no_grad():
        idx, lengths, y = take(enc, torch.arange(len(enc)))
        loss = float(-model(idx, lengths).gather(1, y[:, None]).mean())
    model.train(was)
    return loss


def template(model_cfg: ModelConfig, train_cfg: TrainConfig) -> TrainConfig:
    """The contestants' shared settings: the run's own, with a constant rate and no evals."""
    return replace(train_cfg, schedule="constant", warmup=0, eval_every=0, time_budget=0.0,
                   steps=1, max_names=0)


def pace_target(model_cfg: ModelConfig, train_cfg: TrainConfig, train_set: Encoded,
                held: Encoded, cfg: BatchRaceConfig,
                stop: threading.Event | None = None) -> float:
    """The held-out loss `train_cfg`'s run has after its first `cfg.pace_steps` steps (its
    schedule as long as the whole run's)."""
    import torch

    from nameclf.classify.model import NameClassifier
    from nameclf.lab.gradnoise import train_steps

    torch.manual_seed(cfg.seed)
    model = NameClassifier(model_cfg).to(train_set.idx.device)
    train_steps(model, train_set, train_cfg, cfg.pace_steps, stop)
    if stop is not None and stop.is_set():
        raise ConfigError("stopped")
    return held_out_loss(model, held)


def run_lane(model_cfg: ModelConfig, base: TrainConfig, train_set: Encoded, held: Encoded,
             lane: Lane, target: float, cfg: BatchRaceConfig,
             report: Callable[[Lane], None] | None = None,
             stop: threading.Event | None = None) -> Lane:
    """Train one batch size until the target, `max_examples`, or `stop`."""
    import torch

    from nameclf.classify.model import NameClassifier
    from nameclf.classify.train import train

    torch.manual_seed(cfg.seed)  # the same first weights for every batch size
    model = NameClassifier(model_cfg).to(train_set.idx.device)
    b = lane.batch_size
    every = max(1, round(cfg.eval_every_examples / b))
    halt = threading.Event()
    lane.status = "running"
    lane.examples, lane.seconds, lane.loss = [0], [0.0], [held_out_loss(model, held)]

    def on_step(p) -> None:
        done = p.step >= p.total_steps
        if p.step % every == 0 or done:
            lane.examples.append(p.step * b)
            lane.seconds.append(p.step * b / max(p.names_per_second, 1e-9))
            lane.loss.append(held_out_loss(model, held))
            lane.names_per_second = p.names_per_second
            if lane.loss[-1] <= target and not lane.reached:
                lane.reached = True
                lane.steps_to_target, lane.examples_to_target = p.step, p.step * b
                lane.seconds_to_target = lane.seconds[-1]
                halt.set()
            if report is not None:
                report(lane)
        if stop is not None and stop.is_set():
            halt.set()

    cfg_b = replace(base, batch_size=b, lr=lr_for(b, cfg), steps=math.ceil(cfg.max_examples / b),
                    seed=cfg.seed, time_budget=cfg.lane_seconds)
    result = train(model, train_set, cfg_b, callback=on_step, stop=halt)
    if result.steps * b > lane.examples[-1]:  # stopped between evaluations: where it got to
        lane.examples.append(result.steps * b)
        lane.seconds.append(result.seconds)
        lane.loss.append(held_out_loss(model, held))
        lane.names_per_second = result.names_per_second
        if report is not None:
            report(lane)
    stopped = stop is not None and stop.is_set() and not lane.reached
    lane.status = ("stopped" if stopped else "reached" if lane.reached else
                   "out of time" if result.status == "time budget reached" else "not reached")
    return lane


def race_batch_sizes(model_cfg: ModelConfig, train_cfg: TrainConfig, train_set: Encoded,
                     held_out: Encoded, cfg: BatchRaceConfig = BatchRaceConfig(),
                     report: Callable[[dict], None] | None = None,
                     stop: threading.Event | None = None) -> dict:
    """Every batch size in turn; returns plain data (the CLI's JSON, the page's charts).

    `report` hears {"phase": "target"} while the target run trains, then {"phase": "lane",
    "target_loss": ..., "lanes": [...]} after each evaluation of a lane."""
    from nameclf.lab.race import subset

    start = time.perf_counter()
    if len(train_set) < 2:
        raise ConfigError("the batch-size race needs at least 2 training names")
    notes = []
    sizes = sorted({b for b in cfg.batch_sizes if b <= len(train_set)})
    dropped = sorted({b for b in cfg.batch_sizes if b > len(train_set)})
    if dropped:
        notes.append(f"batch sizes {', '.join(map(str, dropped))} are larger than the "
                     f"{len(train_set)} training names: dropped")
    if not sizes:
        raise ConfigError(f"no batch size fits the {len(train_set)} training names")
    held = subset(held_out, min(cfg.held_out, len(held_out)), cfg.seed)
    lanes = [Lane(b, lr_for(b, cfg)) for b in sizes]

    target, target_from = cfg.target_loss, "given"

    def tell(phase: str) -> None:
        if report is not None:
            report({"phase": phase, "target_loss": target,
                    "lanes": [asdict(lane) for lane in lanes]})

    if target is None:
        tell("target")
        target = pace_target(model_cfg, train_cfg, train_set, held, cfg, stop)
        target_from = f"fast's held-out loss after {cfg.pace_steps} of its steps"
    base = template(model_cfg, train_cfg)
    for lane in sorted(lanes, key=lambda lane: -lane.batch_size):  # the quick ones first
        if stop is not None and stop.is_set():
            lane.status = "stopped"
            continue
        run_lane(model_cfg, base, train_set, held, lane, target, cfg,
                 lambda _lane: tell("lane"), stop)
        tell("lane")
    return {"batch_sizes": sizes, "target_loss": target, "target_from": target_from,
            "rule": rule_text(cfg), "max_examples": cfg.max_examples,
            "lane_seconds": cfg.lane_seconds,
            "lanes": [asdict(lane) for lane in lanes], "notes": notes,
            "seconds": time.perf_counter() - start}
