"""What a model answers as it reads a name one character at a time: S, Sc, Sch, ...

Every answer is the model's prediction for that prefix taken as a whole name. A
one-directional recurrent model gives them all in one pass: its state after character
t has read exactly the prefix of length t, so the output layer applied to the top
layer's per-step outputs answers each prefix. A bidirectional model cannot: its
backward direction starts at the end of the name, so every step of a pass over the
full name has already seen the characters after the prefix. For it, for the n-gram
baseline (which has no running state) and for a recurrent model with the n-gram model
mixed in, each prefix is run as its own name, in one batch.
"""

import torch
import torch.nn.functional as F

from nameclf.batching.encoding import encode_batch
from nameclf.classify.model import NameClassifier
from nameclf.classify.pipeline import Run, clean_query
from nameclf.data.vocab import Vocab
from nameclf.errors import ConfigError


def one_pass(model: torch.nn.Module) -> bool:
    """Whether one pass over the name answers every prefix (a one-directional recurrent model)."""
    return isinstance(model, NameClassifier) and not model.config.bidirectional


def prefix_note(run: Run) -> str:
    """How `prefix_predictions` computes its answers for this run's model, in one line."""
    if one_pass(run.model):
        return "one pass: the output layer applied to the recurrent state after each character"
    if isinstance(run.model, NameClassifier):
        return ("each prefix re-run as its own name: the backward direction reads the name from "
                "its end, so one pass over the full name would let every prefix see what follows")
    if run.model_config.ngram_weight:
        return ("each prefix re-run as its own name: the mixed-in n-gram model has no state to "
                "read step by step")
    return "each prefix run as its own name: the n-gram model has no state to read step by step"


@torch.no_grad()
def stepwise_log_probs(model: NameClassifier, idx: torch.Tensor) -> torch.Tensor:
    """Log-probabilities (T, C) after each character of one name's indices (T, 1), in one pass."""
    if not one_pass(model):
        raise ConfigError("per-step outputs answer prefixes only for one-directional recurrent "
                          "models; use rerun_log_probs")
    out, _ = model.rnn(model.inputs(idx))  # out: (T, 1, H), the top layer at every step;
    # the final state (an LSTM's (h, c) tuple) is not needed
    return F.log_softmax(model.h2o(model.drop(out[:, 0])), dim=1)  # (T, C)


@torch.no_grad()
def rerun_log_probs(model: torch.nn.Module, prefixes: list[str], vocab: Vocab) -> torch.Tensor:
    """Log-probabilities (P, C) of each prefix run as its own name, all in one batch."""
    idx, lengths = encode_batch(prefixes, vocab)  # (T, P), (P,)
    device = next(model.parameters()).device
    return model(idx.to(device), lengths)


def prefix_predictions(run: Run, name: str,
                       k: int = 3) -> list[tuple[str, list[tuple[str, float]]]]:
    """Top-k (label, probability) for every prefix of `name`, the full name last."""
    name, _ = clean_query(str(name), run.info.get("ascii_fold", True))
    if not name:
        return []
    k = max(1, min(k, len(run.classes)))
    prefixes = [name[:t] for t in range(1, len(name) + 1)]
    model = run.model
    was_training = model.training
    model.eval()  # no dropout
    try:
        if one_pass(model):
            idx, _ = encode_batch([name], run.vocab)  # (T, 1)
            logp = stepwise_log_probs(model, idx.to(next(model.parameters()).device))
        else:
            logp = rerun_log_probs(model, prefixes, run.vocab)
    finally:
        model.train(was_training)
    top = logp.exp().cpu().topk(k, dim=1)  # (T, k)
    rows = zip(prefixes, top.values.tolist(), top.indices.tolist(), strict=True)
    return [(prefix, [(run.classes[i], v) for i, v in zip(indices, values, strict=True)])
            for prefix, values, indices in rows]
