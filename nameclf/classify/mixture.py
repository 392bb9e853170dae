"""A recurrent model with the n-gram baseline mixed in: the weighted mean of their probabilities.

The two read names differently (a learned running state; counts of 1-4-letter pieces), so
they err on different names, and their mixture is more accurate than either (the `best`
preset, bench/moonshot.py). The recurrent model trains as usual; the n-gram model is then
fitted on the same training names and mixed in with `ModelConfig.ngram_weight`.
"""

import math
import threading
import time
from collections.abc import Callable
from dataclasses import replace

import torch
from torch import nn

from nameclf.batching.batches import Encoded
from nameclf.classify.config import ModelConfig, TrainConfig
from nameclf.classify.evaluate import log_probs, topk_hits
from nameclf.classify.model import NameClassifier
from nameclf.classify.ngram import NgramModel, fit_ngram, solver_note
from nameclf.classify.train import Progress, TrainResult, fit_recurrent
from nameclf.data.vocab import Vocab
from nameclf.errors import ConfigError


def ngram_part(config: ModelConfig) -> ModelConfig:
    """The config of the n-gram model a mixture holds: same characters, same labels."""
    return ModelConfig(cell="ngram", vocab_size=config.vocab_size, n_classes=config.n_classes,
                       lexicon=config.lexicon)


class Mixture(nn.Module):
    """log((1 - w) p_recurrent + w p_ngram), with w the recurrent config's `ngram_weight`."""

    def __init__(self, recurrent: NameClassifier, ngram: NgramModel):
        super().__init__()
        config = recurrent.config
        if not 0 < config.ngram_weight < 1:
            raise ConfigError("a mixture needs an ngram_weight between 0 and 1")
        if ngram.config != ngram_part(config):
            raise ConfigError("the n-gram model does not read the same characters and labels")
        self.config = config  # the recurrent model's, with its ngram_weight
        self.recurrent, self.ngram = recurrent, ngram

    def forward(self, idx: torch.Tensor, lengths: torch.Tensor,
                batching: str = "packed") -> torch.Tensor:
        """Log-probabilities (B, n_classes) for padded indices (T, B)."""
        return self.mix(self.recurrent(idx, lengths, batching),
                        self.ngram(idx, lengths, batching))

    def mix(self, recurrent_logp: torch.Tensor, ngram_logp: torch.Tensor) -> torch.Tensor:
        """The mixture's log-probabilities from its parts' (B, n_classes) answers."""
        w = self.config.ngram_weight
        return torch.logaddexp(recurrent_logp + math.log(1 - w), ngram_logp + math.log(w))

    def n_params(self) -> int:
        return self.recurrent.n_params() + self.ngram.n_params()


def scored(model: nn.Module, enc: Encoded) -> tuple[torch.Tensor, dict[str, float]]:
    """Log-probabilities (N, C) of a whole split and, for a mixture, each part's top-1 alone:
    each part runs once, and the mixture's answer is mixed from theirs."""
    if not isinstance(model, Mixture):
        return log_probs(model, enc), {}
    y = enc.labels.cpu()
    parts = {part.config.cell: log_probs(part, enc) for part in (model.recurrent, model.ngram)}
    alone_top1 = {cell: topk_hits(logp, y, (1,))[0] for cell, logp in parts.items()}
    return model.mix(*parts.values()), alone_top1


def recurrent_config(config: ModelConfig) -> ModelConfig:
    """The config of a mixture's recurrent part on its own (a recurrent config: unchanged)."""
    return replace(config, ngram_weight=0.0, lexicon=False)


def recurrent_net(model: nn.Module) -> NameClassifier | None:
    """The recurrent net of a model: itself, a mixture's recurrent part, or None (n-grams)."""
    if isinstance(model, NameClassifier):
        return model
    inner = getattr(model, "recurrent", None)
    return inner if isinstance(inner, NameClassifier) else None


def alone(model: NameClassifier) -> NameClassifier:
    """A recurrent model that was to be mixed, kept on its own: its config says so."""
    model.config = recurrent_config(model.config)
    return model


def mix_in(model: NameClassifier, result: TrainResult, train_set: Encoded, vocab: Vocab,
           train_cfg: TrainConfig, started: float,
           stop: threading.Event | None = None) -> tuple[nn.Module, TrainResult, str]:
    """Fit the n-gram model and mix it into a trained recurrent model.

    Returns the model, the result (its seconds include the n-gram fit) and a note, empty
    unless the recurrent model is kept alone: its training did not complete, or Stop or
    the time budget (counted from `started`, a perf_counter time) ended the n-gram fit.
    """
    if result.status != "completed":
        return alone(model), result, f"n-gram model not mixed in: training {result.status}"
    budget = train_cfg.time_budget
    left = budget - (time.perf_counter() - started) if budget else 0.0
    if budget and left <= 0:
        return (alone(model), replace(result, status="time budget reached"),
                "n-gram model not mixed in: no time left to fit it")
    ngram, fitted = fit_ngram(train_set, vocab, ngram_part(model.config),
                              replace(train_cfg, time_budget=left), stop=stop)
    seconds = result.seconds + fitted.seconds
    if fitted.status != "completed":
        why = "its fit was stopped" if fitted.status == "stopped" else "its fit ran out of time"
        return (alone(model), replace(result, status=fitted.status, seconds=seconds),
                f"n-gram model not mixed in: {why}")
    return Mixture(model, ngram).eval(), replace(result, seconds=seconds), ""


def fit_mixture(train_set: Encoded, vocab: Vocab, model_cfg: ModelConfig, train_cfg: TrainConfig,
                eval_set: Encoded | None = None,
                callback: Callable[[Progress], None] | None = None,
                stop: threading.Event | None = None) -> tuple[nn.Module, TrainResult, dict]:
    """The mixture's trainer: the recurrent net, then the n-gram model fitted and mixed in."""
    started = time.perf_counter()
    net, result, _ = fit_recurrent(train_set, vocab, model_cfg, train_cfg, eval_set, callback,
                                   stop)
    model, result, note = mix_in(net, result, train_set, vocab, train_cfg, started, stop)
    return model, result, solver_note(model_cfg) | ({"mix_note": note} if note else {})
