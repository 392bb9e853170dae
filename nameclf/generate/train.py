"""Train a name generator, reporting through callbacks; score it in bits per character.

Its own path, data -> batches -> model -> loss -> metrics, beside the classifier's: it shares
the pure pieces (the batch sampler, the learning-rate schedule), not nameclf.classify.pipeline.fit.
"""

import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace

import torch
import torch.nn.functional as F

from nameclf.batching.batches import sample_batches
from nameclf.classify.config import total_steps
from nameclf.classify.train import lr_at
from nameclf.data.vocab import Vocab
from nameclf.generate.batches import EVAL_BATCH, GenPrepared, LmData, take
from nameclf.generate.config import GeneratorConfig, GenTrainConfig
from nameclf.generate.loss import batch_loss, packed_targets, sample_losses
from nameclf.generate.model import NameGenerator
from nameclf.generate.ngram import NgramLM, fit_ngram_lm

DIVERGED = "diverged — lower the learning rate"
NGRAM_PHASE = "ngram"  # what `phase` hears before the n-gram LM is fitted
LN2 = math.log(2)


@dataclass
class Baseline:
    """What `phase` hears once the n-gram LM is fitted, before the net trains: the figure
    the net's curve is to beat."""

    test_bpc: float


@dataclass
class GenProgress:
    """What a callback hears after each step."""

    step: int
    total_steps: int
    loss: float  # nats per character of this batch
    running_loss: float  # exponential moving average
    names_per_second: float
    elapsed: float
    eta: float
    lr: float
    test_bpc: float | None = None  # set on evaluation steps


@dataclass
class GenHistory:
    """Curves of one run: training loss (nats/char) and test bits per character."""

    step: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    running_loss: list[float] = field(default_factory=list)
    eval_step: list[int] = field(default_factory=list)
    test_bpc: list[float] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class GenResult:
    status: str  # completed | stopped | time budget reached | diverged — ...
    steps: int
    seconds: float  # training time, evaluation excluded
    names_per_second: float
    history: GenHistory


def schedule_step(step: int, n_steps: int, elapsed: float, budget: float) -> int:
    """Where the learning-rate schedule stands: the step, or further along if the time
    budget will end the run first, so that a decay reaches its end when the budget does."""
    if not budget:
        return step
    return max(step, min(n_steps, int(elapsed / budget * n_steps)))


def make_optimizer(model: NameGenerator, cfg: GenTrainConfig) -> torch.optim.Optimizer:
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=0.9,
                               weight_decay=cfg.weight_decay)
    opt = torch.optim.Adam if cfg.optimizer == "adam" else torch.optim.AdamW
    return opt(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)


@torch.no_grad()
def nats_by_label(model: NameGenerator, data: LmData) -> tuple[torch.Tensor, torch.Tensor]:
    """Summed nats and real target cells per label, over every name of `data` (packed)."""
    was = model.training
    model.eval()
    n_labels = model.config.n_labels
    nats = torch.zeros(n_labels, dtype=torch.float64)
    cells = torch.zeros(n_labels, dtype=torch.float64)
    for start in range(0, len(data), EVAL_BATCH):
        batch = take(data, torch.arange(start, min(start + EVAL_BATCH, len(data))))
        logits, packed = model.forward_packed(batch.inputs, batch.lengths, batch.labels)
        loss = F.cross_entropy(logits, packed_targets(batch), reduction="none")  # (N,)
        grid = batch.labels.view(1, -1).expand_as(batch.inputs)
        labels = torch.nn.utils.rnn.pack_padded_sequence(
            grid, batch.lengths, enforce_sorted=False).data.cpu()  # (N,)
        nats.index_add_(0, labels, loss.double().cpu())
        cells.index_add_(0, labels, torch.ones_like(loss, dtype=torch.float64).cpu())
    model.train(was)
    return nats, cells


def bits_per_char(model: NameGenerator, data: LmData, classes: list[str] | None = None):
    """Test bits per character (every character and <eos>, no pad); with `classes`, also
    the figure of each label: (overall, {label: bpc})."""
    nats, cells = nats_by_label(model, data)
    overall = float(nats.sum() / cells.sum() / LN2)
    if classes is None:
        return overall
    return overall, {c: float(nats[i] / cells[i] / LN2) for i, c in enumerate(classes)
                     if cells[i] > 0}


def train_generator(model: NameGenerator, data: LmData, cfg: GenTrainConfig,
                    test: LmData | None = None,
                    callback: Callable[[GenProgress], None] | None = None,
                    stop: threading.Event | None = None) -> GenResult:
    """Train in place; ends on completion, `stop` (within one step; within one name in
    the per-sample loop), the time budget, or divergence (the last sane weights kept)."""
    cfg.validate()
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    n_steps = total_steps(len(data), cfg.batch_size, cfg.steps, cfg.epochs)
    optimizer = make_optimizer(model, cfg)
    params = list(model.parameters())
    good = [p.detach().clone() for p in params]
    limit = 3 * math.log(model.config.n_outputs)  # 3x guessing uniformly: blown up
    history, status, running = GenHistory(), "completed", None
    train_seconds, seen, step = 0.0, 0, 0
    start = time.perf_counter()
    batches = sample_batches(data.lengths, cfg.batch_size, cfg.sampling, gen)
    stopped = lambda: stop is not None and stop.is_set()  # noqa: E731
    model.train()
    while step < n_steps:
        if stopped():
            status = "stopped"
            break
        # the first step always runs, so that even a tiny budget measures something
        if cfg.time_budget and step and time.perf_counter() - start >= cfg.time_budget:
            status = "time budget reached"
            break
        t0 = time.perf_counter()
        lr = lr_at(schedule_step(step, n_steps, time.perf_counter() - start, cfg.time_budget),
                   n_steps, cfg.lr, cfg.schedule, cfg.warmup)
        for group in optimizer.param_groups:
            group["lr"] = lr
        batch = take(data, next(batches))
        optimizer.zero_grad(set_to_none=True)
        if cfg.batching == "per-sample":  # one name at a time, gradients accumulated
            total, n_cells, loss_value = 0.0, int(batch.lengths.sum()), 0.0
            for one in _names_of(batch):
                if stopped():
                    break
                (loss,) = sample_losses(model, one)
                (loss / n_cells).backward()
                total += float(loss.detach())
            if stopped():
                status = "stopped"
                break
            loss_value = total / n_cells
        else:
            loss = batch_loss(model, batch, cfg.batching)
            loss.backward()
            loss_value = float(loss.detach())
        running = loss_value if running is None else 0.95 * running + 0.05 * loss_value
        if not math.isfinite(loss_value) or running > limit:
            with torch.no_grad():
                for p, g in zip(params, good):
                    p.copy_(g)
            status = DIVERGED
            break
        with torch.no_grad():
            for p, g in zip(params, good):
                g.copy_(p)
        if cfg.clip_grad:
            torch.nn.utils.clip_grad_norm_(params, cfg.clip_grad)
        optimizer.step()
        step += 1
        seen += len(batch.lengths)
        train_seconds += time.perf_counter() - t0
        history.step.append(step)
        history.loss.append(loss_value)
        history.running_loss.append(running)
        bpc = None
        if test is not None and ((cfg.eval_every and step % cfg.eval_every == 0)
                                 or step == n_steps):
            bpc = bits_per_char(model, test)
            history.eval_step.append(step)
            history.test_bpc.append(bpc)
        if callback is not None:
            elapsed = time.perf_counter() - start
            eta = elapsed / step * (n_steps - step)
            if cfg.time_budget:
                eta = min(eta, max(0.0, cfg.time_budget - elapsed))
            callback(GenProgress(step, n_steps, loss_value, running,
                                 seen / max(train_seconds, 1e-9), elapsed, eta, lr, bpc))
    model.eval()
    return GenResult(status, step, train_seconds, seen / max(train_seconds, 1e-9), history)


def _names_of(batch):
    """The names of a batch one by one, as batches of one."""
    from nameclf.generate.batches import LmBatch

    for b, n in enumerate(batch.lengths.tolist()):
        yield LmBatch(batch.inputs[:n, b : b + 1], batch.targets[:n, b : b + 1],
                      batch.lengths[b : b + 1], batch.labels[b : b + 1])


@dataclass
class GenRun:
    """A trained generator with everything needed to sample, score and share it."""

    model: NameGenerator
    vocab: Vocab
    classes: list[str]
    train_config: GenTrainConfig
    info: dict = field(default_factory=dict)  # data, split, sizes, timings
    metrics: dict = field(default_factory=dict)  # test bits per character, per label
    history: dict = field(default_factory=dict)
    status: str = "completed"
    train_hashes: torch.Tensor | None = None  # name_hash of every training name (novelty)
    ngram: NgramLM | None = None  # mixed into the net's next-token probabilities

    @property
    def ngram_weight(self) -> float:
        """The n-gram LM's share of the next-token distribution (0: the net alone)."""
        return self.train_config.ngram_weight if self.ngram is not None else 0.0

    @property
    def model_config(self) -> GeneratorConfig:
        return self.model.config


def fit_generator(prep: GenPrepared, model_cfg: GeneratorConfig, train_cfg: GenTrainConfig,
                  callback: Callable[[GenProgress], None] | None = None,
                  stop: threading.Event | None = None, info: dict | None = None,
                  phase: Callable[[str | Baseline], None] | None = None) -> GenRun:
    """Fit the n-gram LM (the baseline, and the mixture's other part when
    `train_cfg.ngram_weight` > 0), build a generator for the prepared data, train it, and
    score the net, the n-gram LM and their mixture on the test split. `phase` hears
    NGRAM_PHASE before the n-gram LM's fit and its Baseline after (so a live panel can say
    what it is doing, then draw the line the net's curve is to beat).

    When mixing, the n-gram LM is part of the generator: its fit counts against the time
    budget (it is fitted first, so the net gets what is left)."""
    from nameclf.generate.batches import name_hash
    from nameclf.generate.mixture import mixed_bits_per_char

    model_cfg = replace(model_cfg, vocab_size=len(prep.vocab), n_labels=len(prep.classes))
    train_cfg.validate()
    if phase is not None:
        phase(NGRAM_PHASE)
    t0 = time.perf_counter()
    stopped = None if stop is None else stop.is_set
    lm = fit_ngram_lm(prep.train_names, prep.train_labels, seed=train_cfg.seed, stop=stopped)
    ngram_seconds = time.perf_counter() - t0
    base_bpc, base_by_label = lm.bits_per_char(prep.test_names, prep.test_labels)
    if phase is not None:
        phase(Baseline(base_bpc))
    mixing = train_cfg.ngram_weight > 0
    net_cfg = train_cfg
    if mixing and train_cfg.time_budget:
        net_cfg = replace(train_cfg, time_budget=max(1e-3, train_cfg.time_budget - ngram_seconds))
    torch.manual_seed(train_cfg.seed)
    model = NameGenerator(model_cfg).to(prep.train.inputs.device)
    result = train_generator(model, prep.train, net_cfg, prep.test, callback, stop)
    net_bpc, net_by_label = bits_per_char(model, prep.test, prep.classes)
    metrics = {"test_bits_per_char": net_bpc, "per_label_bits_per_char": net_by_label,
               "net_bits_per_char": net_bpc, "net_per_label": net_by_label,
               "baseline_bits_per_char": base_bpc, "baseline_per_label": base_by_label,
               "baseline": lm.describe(), "ngram_weight": train_cfg.ngram_weight}
    if mixing:
        bpc, by_label = mixed_bits_per_char(model, prep.vocab, lm, train_cfg.ngram_weight,
                                            prep.test, prep.test_labels)
        metrics.update(test_bits_per_char=bpc, per_label_bits_per_char=by_label)
    seconds = result.seconds + (ngram_seconds if mixing else 0.0)
    info = dict(info or {}, split=prep.split.kind, n_train=len(prep.train),
                n_test=len(prep.test), leaked_test_rows=prep.leaked, steps=result.steps,
                train_seconds=seconds, net_seconds=result.seconds, ngram_seconds=ngram_seconds,
                names_per_second=result.names_per_second, n_params=model.n_params(),
                test_chars=prep.test.n_targets)
    hashes = torch.tensor(sorted({name_hash(n) for n in prep.train_names}), dtype=torch.long)
    return GenRun(model, prep.vocab, prep.classes, train_cfg, info, metrics,
                  result.history.to_dict(), result.status, hashes, lm if mixing else None)
