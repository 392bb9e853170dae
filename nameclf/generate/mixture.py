"""The generator's net and the n-gram LM as one model: their next-token probabilities mixed.

    P(c | prefix, L)  proportional to  P_net(c | prefix, L)^(1-w) * P_ngram(c | context, L)^w

a log-linear (geometric) interpolation, normalised over the next token at every step. Mixing
a recurrent LM with a Kneser-Ney n-gram model is as old as RNN LMs (Mikolov et al., 2011):
the two err in different places, so the mixture beats either (on the reference file by about
0.1 bit per character, docs/generate.md). Geometric rather than the usual linear mix: on a
validation carve it scored a little better (2.514 against 2.520 bits at w = 0.5), and a
character only the n-gram LM's smoothing allows (a capital letter mid-name, which it gives
about 0.1%) stays as unlikely as the net makes it, so the samples look like names. w is
`GenTrainConfig.ngram_weight`; 0 is the net alone, 1 would be the n-gram LM alone.

Both score the same events: the n-gram LM's tokens are read off the net's own target ids
(a character, <unk>, <eos>), so a test letter the vocabulary maps to its other case is the
same token for both.
"""

import math

import torch
import torch.nn.functional as F

from nameclf.data.vocab import Vocab
from nameclf.generate.batches import EVAL_BATCH, LmData, take
from nameclf.generate.ngram import BOS, EOS, UNK, NgramLM

UNK_ID = 1


def output_tokens(vocab: Vocab, lm: NgramLM) -> list[str | None]:
    """The n-gram LM's token for each output id of the net (pad: None, it has no pad)."""
    known = lm.known
    chars = [c if c in known else UNK for c in vocab.chars]
    return [None, UNK, *chars, EOS]


def output_probs(vocab: Vocab, lm: NgramLM, label: str, context: tuple[str, ...],
                 tokens: list[str | None] | None = None) -> list[float]:
    """The n-gram LM's next-token distribution laid out over the net's output ids
    (`tokens`: output_tokens(vocab, lm), if the caller has it already)."""
    probs = dict(zip(lm.types, lm.next_probs(label, context)))
    out = [0.0] * (len(vocab) + 1)
    for i, tok in enumerate(tokens or output_tokens(vocab, lm)):
        if tok is not None and (tok != UNK or i == UNK_ID):  # <unk> counted once
            out[i] = probs.get(tok, 0.0)
    return out


def mix(net_logp: torch.Tensor, lm_probs: torch.Tensor, weight: float) -> torch.Tensor:
    """Normalised log-probabilities (..., V) of the geometric mixture of the net's
    log-probabilities and the n-gram LM's probabilities over the same output ids."""
    if weight == 0:
        return net_logp
    if weight == 1:
        return lm_probs.log()
    return torch.log_softmax((1 - weight) * net_logp + weight * lm_probs.log(), dim=-1)


@torch.no_grad()
def net_log_probs(model, data: LmData) -> list[torch.Tensor]:
    """The net's next-token log-probabilities (n + 1, V) of each name (float64, CPU)."""
    was = model.training
    model.eval()
    out = []
    for start in range(0, len(data), EVAL_BATCH):
        batch = take(data, torch.arange(start, min(start + EVAL_BATCH, len(data))))
        logits, _ = model(batch.inputs, batch.labels)  # (T, B, V)
        logp = F.log_softmax(logits.double(), dim=-1).cpu()
        out.extend(logp[:n, b] for b, n in enumerate(batch.lengths.tolist()))
    model.train(was)
    return out


def mixed_bits_per_char(model, vocab: Vocab, lm: NgramLM, weight: float, data: LmData,
                        labels: list[str]) -> tuple[float, dict[str, float]]:
    """Bits per character of the mixture over every real target cell of `data` (names in
    the order of `labels`), overall and per label. The n-gram LM's distributions are read
    off the same target ids as the net's (so both score the same events)."""
    tokens = output_tokens(vocab, lm)
    targets = data.targets.cpu()
    nats: dict[str, float] = {}
    cells: dict[str, int] = {}
    cache: dict = {}
    for i, (logp, label) in enumerate(zip(net_log_probs(model, data), labels)):
        target = targets[i, : len(logp)]
        seq = [tokens[t] for t in target.tolist()]
        prefixes = [seq[:k] for k in range(len(seq))]  # what came before each target
        mixed = mix(logp, lm_rows(vocab, lm, label, prefixes, cache), weight)
        nats[label] = nats.get(label, 0.0) - float(mixed.gather(1, target.view(-1, 1)).sum())
        cells[label] = cells.get(label, 0) + len(target)
    overall = sum(nats.values()) / max(1, sum(cells.values())) / math.log(2)
    return overall, {k: nats[k] / cells[k] / math.log(2) for k in sorted(cells)}


def context_of(chars: list[str], lm: NgramLM) -> tuple[str, ...]:
    """The n-gram LM's context after these tokens: the last order - 1 of them."""
    seq = [BOS] * (lm.order - 1) + [c if c in lm.known or c == UNK else UNK for c in chars]
    return tuple(seq[len(seq) - lm.order + 1 :]) if lm.order > 1 else ()


def lm_rows(vocab: Vocab, lm: NgramLM, label: str, prefixes: list[list[str]],
            cache: dict) -> torch.Tensor:
    """The n-gram LM's next-token distributions (B, V) after each of these token prefixes,
    over the net's output ids; `cache` keeps them by (label, context) across calls."""
    rows, tokens = [], None
    for chars in prefixes:
        key = (label, context_of(chars, lm))
        if key not in cache:
            tokens = tokens or output_tokens(vocab, lm)  # once a call, if any row is new
            cache[key] = output_probs(vocab, lm, label, key[1], tokens)
        rows.append(cache[key])
    return torch.tensor(rows, dtype=torch.float64)


def mix_step(logits: torch.Tensor, vocab: Vocab, lm: NgramLM, weight: float, label: str,
             prefixes: list[list[str]], cache: dict) -> torch.Tensor:
    """Log-probabilities (B, V) of the mixture for one sampling step, from the net's logits
    and each row's characters so far."""
    p_lm = lm_rows(vocab, lm, label, prefixes, cache)
    return mix(torch.log_softmax(logits.double(), dim=1), p_lm, weight).float()


__all__ = ["lm_rows", "mix", "mix_step", "mixed_bits_per_char", "net_log_probs", "output_probs",
           "output_tokens"]
