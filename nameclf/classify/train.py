"""One training loop for every model, reporting through callbacks."""

import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import torch

from nameclf.batching.batches import Encoded, sample_batches, take
from nameclf.classify.config import ModelConfig, TrainConfig, total_steps
from nameclf.classify.evaluate import topk_accuracy
from nameclf.classify.model import NameClassifier
from nameclf.data.vocab import Vocab
from nameclf.errors import ConfigError

DIVERGED = "diverged — lower the learning rate"


@dataclass
class Progress:
    """What a callback hears after each step."""

    step: int
    total_steps: int
    loss: float
    running_loss: float  # exponential moving average
    names_per_second: float  # training names per second of training time
    elapsed: float  # seconds since start, evaluation included
    eta: float  # seconds left, estimated
    lr: float
    top1: float | None = None  # set on evaluation steps
    top2: float | None = None
    # the module being trained, consistent between two steps (a watcher may copy the model so
    # far); None where a model is fitted in one go. Not part of the report itself.
    model: torch.nn.Module | None = field(default=None, repr=False, compare=False)


@dataclass
class History:
    """Curves of one run."""

    step: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    running_loss: list[float] = field(default_factory=list)
    eval_step: list[int] = field(default_factory=list)
    top1: list[float] = field(default_factory=list)
    top2: list[float] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TrainResult:
    """How a run ended."""

    status: str  # completed | stopped | time budget reached | diverged — ...
    steps: int  # optimizer steps taken
    seconds: float  # training time, evaluation excluded
    names_per_second: float
    history: History


def lr_at(step: int, total: int, base: float, schedule: str, warmup: int = 0) -> float:
    """Learning rate for 0-based `step`: linear warmup, then constant, cosine or linear decay."""
    if step < warmup:
        return base * (step + 1) / warmup
    if schedule == "constant":
        return base
    progress = (step - warmup) / max(1, total - warmup)
    if schedule == "cosine":
        return base * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))
    return base * max(0.0, 1 - progress)


def class_weights(labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    """Inverse-frequency weights, averaging 1 over the training rows."""
    counts = torch.bincount(labels, minlength=n_classes).float().clamp(min=1)
    return len(labels) / (n_classes * counts)


def nll(logp: torch.Tensor, y: torch.Tensor, weight: torch.Tensor | None,
        smoothing: float) -> torch.Tensor:
    """Per-name loss (B,): label-smoothed NLL, times the class weight of each name."""
    loss = -logp.gather(1, y[:, None]).squeeze(1)  # (B,)
    if smoothing:
        loss = (1 - smoothing) * loss - smoothing * logp.mean(dim=1)
    return loss * weight[y] if weight is not None else loss


def make_optimizer(model: torch.nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    """The optimizer named by the config."""
    params = model.parameters()
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum,
                               weight_decay=cfg.weight_decay)
    opt = torch.optim.Adam if cfg.optimizer == "adam" else torch.optim.AdamW
    return opt(params, lr=cfg.lr, weight_decay=cfg.weight_decay)


def batch_loss(model: NameClassifier, idx, lengths, y, weight, cfg: TrainConfig,
               stop: threading.Event | None,
               deadline: float | None = None) -> torch.Tensor | None:
    """Forward and backward one batch in the configured mode; returns the mean loss.

    None when `stop` is set, or `deadline` (a perf_counter time) passes, in the middle of a
    per-sample batch: one name at a time, a batch can take seconds.
    """
    norm = weight[y].sum() if weight is not None else torch.tensor(float(len(y)))
    if cfg.batching != "per-sample":
        loss = nll(model(idx, lengths, cfg.batching), y, weight, cfg.label_smoothing).sum() / norm
        loss.backward()
        return loss.detach()
    total = torch.zeros((), device=idx.device)
    for b in range(len(y)):  # the tutorial's loop: one name at a time, gradients accumulated
        if (stop is not None and stop.is_set()) or (deadline and time.perf_counter() >= deadline):
            return None
        n = int(lengths[b])
        # one unpadded name: the final state is exact (bidirectional too), as in the tutorial
        logp = model(idx[:n, b : b + 1], lengths[b : b + 1], "naive")  # (1, C)
        loss = nll(logp, y[b : b + 1], weight, cfg.label_smoothing).sum() / norm
        loss.backward()
        total += loss.detach()
    return total


def train(model: NameClassifier, train_set: Encoded, cfg: TrainConfig,
          test_set: Encoded | None = None,
          callback: Callable[[Progress], None] | None = None,
          stop: threading.Event | None = None) -> TrainResult:
    """Train in place; stops on completion, `stop`, the time budget, or divergence.

    `cfg` is checked where it is made (`TrainConfig.validate`: the CLI, the page, `preset`).
    """
    if cfg.batching == "padded" and model.config.bidirectional:
        raise ConfigError("padded batching is exact only for one-directional models; use packed")
    model.kernel = cfg.kernel
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    n_steps = total_steps(len(train_set), cfg.batch_size, cfg.steps, cfg.epochs, cfg.max_names)
    n_classes = model.config.n_classes
    weight = class_weights(train_set.labels, n_classes) if cfg.class_weighting else None
    optimizer = make_optimizer(model, cfg)
    params = [p for p in model.parameters()]
    good = [p.detach().clone() for p in params]  # last weights that gave a sane loss
    # float32 losses rarely reach inf: a running loss 10x that of guessing uniformly
    # means the run has blown up just as surely
    limit = 10 * math.log(model.config.n_classes)
    history, status, running = History(), "completed", None
    train_seconds, seen, step = 0.0, 0, 0
    start = time.perf_counter()
    batches = sample_batches(train_set.lengths, cfg.batch_size, cfg.sampling, gen)
    model.train()
    while step < n_steps:
        if stop is not None and stop.is_set():
            status = "stopped"
            break
        if cfg.time_budget and time.perf_counter() - start >= cfg.time_budget:
            status = "time budget reached"
            break
        t0 = time.perf_counter()
        lr = lr_at(step, n_steps, cfg.lr, cfg.schedule, cfg.warmup)
        for group in optimizer.param_groups:
            group["lr"] = lr
        idx, lengths, y = take(train_set, next(batches))
        optimizer.zero_grad(set_to_none=True)
        # the first step always completes, so even a tiny budget measures something
        deadline = start + cfg.time_budget if cfg.time_budget and step else None
        loss = batch_loss(model, idx, lengths, y, weight, cfg, stop, deadline)
        if loss is None:
            status = "stopped" if stop is not None and stop.is_set() else "time budget reached"
            break
        loss_value = float(loss)
        running = loss_value if running is None else 0.98 * running + 0.02 * loss_value
        if not math.isfinite(running) or running > limit:
            with torch.no_grad():
                for p, g in zip(params, good):
                    p.copy_(g)
            status = DIVERGED
            break
        if loss_value <= limit:
            with torch.no_grad():
                for p, g in zip(params, good):
                    g.copy_(p)
        if cfg.clip_grad:
            torch.nn.utils.clip_grad_norm_(params, cfg.clip_grad)
        optimizer.step()
        step += 1
        seen += len(y)
        train_seconds += time.perf_counter() - t0
        history.step.append(step)
        history.loss.append(loss_value)
        history.running_loss.append(running)
        top = None
        if test_set is not None and ((cfg.eval_every and step % cfg.eval_every == 0)
                                     or step == n_steps):
            top = topk_accuracy(model, test_set, (1, 2))
            model.train()
            history.eval_step.append(step)
            history.top1.append(top[0])
            history.top2.append(top[1])
        if callback is not None:
            elapsed = time.perf_counter() - start
            eta = elapsed / step * (n_steps - step)
            if cfg.time_budget:
                eta = min(eta, max(0.0, cfg.time_budget - elapsed))
            callback(Progress(step, n_steps, loss_value, running, seen / max(train_seconds, 1e-9),
                              elapsed, eta, lr, *(top or (None, None)), model=model))
    model.eval()
    return TrainResult(status, step, train_seconds, seen / max(train_seconds, 1e-9), history)


def fit_recurrent(train_set: Encoded, vocab: Vocab, model_cfg: ModelConfig, train_cfg: TrainConfig,
                  eval_set: Encoded | None = None,
                  callback: Callable[[Progress], None] | None = None,
                  stop: threading.Event | None = None) -> tuple[NameClassifier, TrainResult, dict]:
    """The recurrent trainer: a new NameClassifier on the data's device, trained by `train`.

    Every trainer `pipeline.fit` hands a job to takes these arguments and returns the model,
    the TrainResult and notes for the run's info."""
    model = NameClassifier(model_cfg).to(train_set.idx.device)
    return model, train(model, train_set, train_cfg, eval_set, callback, stop), {}
