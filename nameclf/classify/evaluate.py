"""Metrics on a whole split, and predictions for typed names."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch

from nameclf.batching.batches import Encoded, take

if TYPE_CHECKING:  # pandas loads when metrics are built: the training loop does not need it
    import pandas as pd

CHUNK = 512  # names per forward pass when scoring a whole split: ~20 MB of activations for the
# fast GRU; 4096 took ~175 MB, and a class opening Evaluate at once multiplied that
SCORING = threading.BoundedSemaphore(2)  # whole splits scored at once in a process


@torch.no_grad()
def log_probs(model: torch.nn.Module, enc: Encoded) -> torch.Tensor:
    """Log-probabilities (N, C) for every name of an encoded split, in eval mode."""
    was_training = model.training
    model.eval()
    outs = []
    with SCORING:
        for sel in torch.arange(len(enc)).split(CHUNK):
            idx, lengths, _ = take(enc, sel)
            outs.append(model(idx, lengths).float().cpu())
    model.train(was_training)
    return torch.cat(outs) if outs else torch.zeros(0, 0)


def topk_hits(logp: torch.Tensor, y: torch.Tensor, ks=(1, 2, 3)) -> list[float]:
    """Fraction of rows whose true label is among the k most likely, for each k."""
    kmax = min(max(ks), logp.size(1))
    top = logp.topk(kmax, dim=1).indices  # (N, kmax)
    hit = top == y.view(-1, 1)
    return [float(hit[:, : min(k, kmax)].any(dim=1).float().mean()) for k in ks]


def topk_accuracy(model: torch.nn.Module, enc: Encoded, ks=(1, 2)) -> list[float]:
    """Top-k accuracy of a model on an encoded split."""
    return topk_hits(log_probs(model, enc), enc.labels.cpu(), ks)


def name_top1(logp: torch.Tensor, y: torch.Tensor, names: list[str]) -> float:
    """Top-1 per distinct name: each name counts once, right if the model's answer is its most
    frequent label among these rows (any of them on a tie). Rows of one name get one answer."""
    if not names:
        return 0.0
    pred = logp.argmax(dim=1).tolist()
    counts: dict[str, dict[int, int]] = {}
    answer: dict[str, int] = {}
    for name, label, p in zip(names, y.tolist(), pred, strict=True):
        by_label = counts.setdefault(name, {})
        by_label[label] = by_label.get(label, 0) + 1
        answer.setdefault(name, p)
    right = sum(by_label.get(answer[name], 0) == max(by_label.values())
                for name, by_label in counts.items())
    return right / len(counts)


@dataclass
class Metrics:
    """Everything measured on one split."""

    top1: float
    top2: float
    top3: float
    macro_f1: float
    balanced_accuracy: float
    per_class: pd.DataFrame  # precision, recall, f1, support per label
    confusion: pd.DataFrame  # rows: true label, columns: predicted label (counts)
    n: int  # names scored

    def summary(self) -> dict:
        """The scalar metrics as a plain dict."""
        keys = ("top1", "top2", "top3", "macro_f1", "balanced_accuracy", "n")
        return {k: getattr(self, k) for k in keys}


def metrics_from(logp: torch.Tensor, y: torch.Tensor, classes: list[str]) -> Metrics:
    """Top-k, per-class precision/recall/F1 and the confusion matrix from log-probs."""
    import pandas as pd

    n_classes = len(classes)
    pred = logp.argmax(dim=1)
    confusion = torch.bincount(y * n_classes + pred, minlength=n_classes**2)
    confusion = confusion.view(n_classes, n_classes).double()  # (true, predicted)
    tp = confusion.diag()
    support, predicted = confusion.sum(1), confusion.sum(0)
    precision = torch.where(predicted > 0, tp / predicted.clamp(min=1), 0.0)
    recall = torch.where(support > 0, tp / support.clamp(min=1), 0.0)
    f1 = torch.where(precision + recall > 0,
                     2 * precision * recall / (precision + recall).clamp(min=1e-12), 0.0)
    present = support > 0
    seen = present | (predicted > 0)  # macro-F1 averages over true or predicted labels, as sklearn
    per_class = pd.DataFrame({
        "precision": precision.numpy(), "recall": recall.numpy(), "f1": f1.numpy(),
        "support": support.long().numpy(),
    }, index=pd.Index(classes, name="label"))
    top1, top2, top3 = topk_hits(logp, y, (1, 2, 3))
    return Metrics(
        top1, top2, top3,
        macro_f1=float(f1[seen].mean()) if seen.any() else 0.0,
        balanced_accuracy=float(recall[present].mean()) if present.any() else 0.0,
        per_class=per_class,
        confusion=pd.DataFrame(confusion.long().numpy(), index=pd.Index(classes, name="true"),
                               columns=pd.Index(classes, name="predicted")),
        n=len(y),
    )


def evaluate(model: torch.nn.Module, enc: Encoded, classes: list[str]) -> Metrics:
    """All metrics of a model on a whole encoded split (never sampled)."""
    return metrics_from(log_probs(model, enc), enc.labels.cpu(), classes)


def most_confused(confusion: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The off-diagonal (true, predicted) pairs with the most names."""
    pairs = confusion.stack().rename("count").reset_index()
    pairs = pairs[(pairs["true"] != pairs["predicted"]) & (pairs["count"] > 0)]
    return pairs.sort_values("count", ascending=False, kind="stable").head(n).reset_index(drop=True)


@dataclass
class Prediction:
    """Top-k labels for one typed name."""

    name: str  # as typed
    normalized: str  # as the model read it
    top: list[tuple[str, float]] = field(default_factory=list)  # (label, probability)
    note: str = ""  # why the answer may be unreliable, or why there is none
    prior: bool = False  # `top` is the training prior: the name has no known character
