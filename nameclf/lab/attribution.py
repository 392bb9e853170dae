"""Why this name? How much each character moved the model's answer, two ways.

* Occlusion: the label's probability with the name as typed, minus its probability with that
  one character read as <unk>. Any model can be asked (the n-gram baseline too).
* Integrated gradients (Sundararajan et al. 2017) on the recurrent net's input vectors (one-hot
  rows or embeddings): the gradient of the label's log-probability, averaged along a straight
  path from a baseline name to the name, times the input's change. They add up to
  log p(label | name) - log p(label | baseline). The baseline is no single name but 16 of
  random letters, averaged ("expected gradients", Erion et al. 2021): an all-zero input is
  what <pad> reads as, and a model may read it as a letter, which hides that letter's part.

Both explain the model, not the language: a character matters here because of what this
model learned from its training names.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from nameclf.batching.encoding import encode_batch
from nameclf.classify.mixture import recurrent_net
from nameclf.classify.model import NameClassifier
from nameclf.data.vocab import Vocab
from nameclf.errors import ConfigError
from nameclf.lab.pitfall_states import last_layer

UNK_ID = 1  # nameclf.data.vocab: index 1 is <unk>
MAX_CHARS = 64  # pipeline.MAX_NAME_LEN: typed names are cut there before prediction
IG_STEPS = 16  # points on each path
N_BASELINES = 16  # random baseline names the paths start from


@dataclass
class Attribution:
    """Per character of `name`: how much it moved the answer `label`, by each method."""

    name: str
    label: str  # the label explained (the model's top answer unless asked otherwise)
    prob: float  # p(label | name)
    occlusion: list[float]  # p(label | name) - p(label | this character as <unk>)
    gradients: list[float] | None  # integrated gradients on log p(label); None: no gradient
    note: str = ""  # which part of the model the gradients explain, if not all of it


def device_of(model: torch.nn.Module) -> torch.device:
    """Where a model's tensors live (the n-gram model may hold buffers only)."""
    found = next(iter(model.parameters()), None)
    found = found if found is not None else next(iter(model.buffers()), None)
    return found.device if found is not None else torch.device("cpu")


def log_probs(model: torch.nn.Module, vocab: Vocab, names: list[str]) -> torch.Tensor:
    """The model's log-probabilities (B, C) for names, as the app predicts them."""
    idx, lengths = encode_batch(names, vocab)
    with torch.no_grad():
        return model(idx.to(device_of(model)), lengths).cpu()


def occlusion(model: torch.nn.Module, vocab: Vocab, name: str, target: int) -> list[float]:
    """p(target | name) minus p(target | name with character i read as <unk>), per i."""
    ids = vocab.encode(name)
    idx = torch.tensor(ids).view(-1, 1).repeat(1, len(ids) + 1)  # (T, T + 1): name, variants
    for i in range(len(ids)):
        idx[i, i + 1] = UNK_ID
    lengths = torch.full((len(ids) + 1,), len(ids))
    with torch.no_grad():
        p = model(idx.to(device_of(model)), lengths)[:, target].exp().cpu()  # (T + 1,)
    return (p[0] - p[1:]).tolist()


def random_baselines(model: NameClassifier, length: int, k: int = N_BASELINES,
                     seed: int = 0) -> torch.Tensor:
    """k baseline names (length, k) of random known characters (ids 2 and up), seeded."""
    gen = torch.Generator().manual_seed(seed)
    return torch.randint(2, model.config.vocab_size, (length, k), generator=gen)


def integrated_gradients(model: NameClassifier, vocab: Vocab, name: str, target: int,
                         steps: int = IG_STEPS, baselines: torch.Tensor | None = None
                         ) -> list[float]:
    """Integrated gradients of log p(target) per character, averaged over baseline names
    (T, K) of character ids: K straight paths, `steps` midpoints each, one batch."""
    device = device_of(model)
    idx = torch.tensor(vocab.encode(name), device=device)
    if baselines is None:
        baselines = random_baselines(model, len(idx))
    k = baselines.shape[1]
    with torch.no_grad():
        x = model.inputs(idx).unsqueeze(1)  # (T, 1, D)
        base = model.inputs(baselines.to(device)).repeat(1, steps, 1)  # (T, steps * K, D)
    alphas = ((torch.arange(steps, device=device) + 0.5) / steps).repeat_interleave(k)
    path = (base + alphas.view(1, -1, 1) * (x - base)).requires_grad_(True)  # (T, S * K, D)
    _, h_n = model.rnn(path)  # every column has the whole name: no padding, no packing
    logp = torch.log_softmax(model.h2o(last_layer(model, h_n)), dim=1)[:, target]  # (S * K,)
    (grads,) = torch.autograd.grad(logp.sum(), path)  # leaves the weights' .grad alone
    return (grads * (x - base)).sum(dim=2).mean(dim=1).tolist()  # (T,)


def recurrent_part(model: torch.nn.Module) -> tuple[NameClassifier | None, str]:
    """The net integrated gradients can run through, and what it leaves out."""
    net = recurrent_net(model)
    if net is model:
        return net, ""
    if net is not None:  # a mixture: the n-gram part has no gradient
        return net, "Integrated gradients explain the recurrent part alone, not the mix."
    return None, "The n-gram model has no input gradient: occlusion only."


def attribute(model: torch.nn.Module, vocab: Vocab, classes: list[str], name: str,
              label: str | None = None) -> Attribution:
    """Both attributions of `name` for `label` (default: the model's top answer)."""
    if not name:
        raise ConfigError("type a name to explain")
    if len(name) > MAX_CHARS:
        raise ConfigError(f"names of at most {MAX_CHARS} characters can be explained")
    if label is not None and label not in classes:
        raise ConfigError(f"the model has no label {label!r}")
    was_training = model.training
    model.eval()
    try:
        logp = log_probs(model, vocab, [name])[0]  # (C,)
        target = classes.index(label) if label is not None else int(logp.argmax())
        occ = occlusion(model, vocab, name, target)
        net, note = recurrent_part(model)
        grads = integrated_gradients(net, vocab, name, target) if net is not None else None
    finally:
        model.train(was_training)
    return Attribution(name, classes[target], float(logp[target].exp()), occ, grads, note)
