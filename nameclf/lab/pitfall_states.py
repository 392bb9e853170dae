"""The batching bugs that break a classifier's hidden states, each measured on a real batch.

Every measurement is a pure function of a `LabBatch` (a classifier and some labelled names)
that returns a `Measure`: rows of (what, with the bug, with the fix), one line that says what
went wrong, the real error message where the bug raises one, and what the bug did (`effect`).
The readout cards call `lab.packing.readout`: the walkthrough's own code, never a copy.
`lab.pitfalls` holds the other cards and every card's measurement by name.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from nameclf.batching.encoding import encode_batch, pack_sorted
from nameclf.classify.model import CELLS, NameClassifier
from nameclf.data.vocab import Vocab
from nameclf.errors import ConfigError
from nameclf.lab.packing import readout


@dataclass
class LabBatch:
    """The names a card measures on, their true labels, and the classifier that reads them."""

    model: NameClassifier  # a mixture's recurrent part: the cards read its hidden state
    vocab: Vocab
    names: list[str]
    labels: list[int]  # index into classes, per name
    classes: list[str]

    def __post_init__(self) -> None:
        if len(self.names) < 2 or len(self.names) != len(self.labels):
            raise ConfigError("a pitfall needs at least 2 names, each with its label")
        if not all(self.names):
            raise ConfigError("a pitfall cannot measure an empty name")

    @property
    def y(self) -> torch.Tensor:
        return torch.tensor(self.labels)  # (B,)

    def encoded(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Padded indices (T, B) on the model's device, lengths (B,) on the CPU."""
        idx, lengths = encode_batch(self.names, self.vocab)
        return idx.to(device_of(self.model)), lengths


def sample_batch(model: NameClassifier, vocab: Vocab, classes: list[str], names: list[str],
                 labels: list[str], n: int = 256, seed: int = 0) -> LabBatch:
    """Up to n of these (name, label) rows, seeded, keeping only labels the model knows."""
    rows = [i for i, (x, y) in enumerate(zip(names, labels, strict=True)) if x and y in classes]
    if len(rows) < 2:
        raise ConfigError("fewer than 2 test names have a label this model knows: the cards "
                          "need a batch of them (train a model on this dataset)")
    rows = random.Random(seed).sample(rows, min(n, len(rows)))
    return LabBatch(model, vocab, [names[i] for i in rows],
                    [classes.index(labels[i]) for i in rows], classes)


@dataclass
class Measure:
    """One card's live result: the bug and the fix side by side, on the same batch."""

    rows: list[dict]  # {"": what, "with the bug": value, "with the fix": value}
    headline: str  # what went wrong, in one line
    error: str = ""  # the real message, for a bug that raises
    extra: dict = field(default_factory=dict)  # raw numbers, for tests and the bench
    effect: str = "numbers"  # what the bug did here: a key of pitfall_cards.EFFECTS

    def __post_init__(self) -> None:
        if self.error:
            self.effect = "error"


def device_of(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def row(what: str, bug, fix) -> dict:
    return {"": what, "with the bug": bug, "with the fix": fix}


def pct(x: float) -> str:
    return f"{x:.1%}"


def moved(changed: int) -> str:
    """The effect of a silent bug: answers when any top label changed, else numbers."""
    return "answers" if changed else "numbers"


def changed_answers(model: NameClassifier, h_bug: torch.Tensor, h_fix: torch.Tensor) -> int:
    """How many names the classifier answers differently from features h_bug and h_fix."""
    return int((model.h2o(h_bug).argmax(1) != model.h2o(h_fix).argmax(1)).sum())


def top1(model: NameClassifier, h: torch.Tensor, y: torch.Tensor) -> float:
    """Top-1 accuracy of the classifier's output layer on features h (B, F)."""
    return float((model.h2o(h).argmax(dim=1).cpu() == y).float().mean())


def last_layer(model: NameClassifier, h_n) -> torch.Tensor:
    """h_n (layers * dirs, B, H) of nn.RNN/GRU/LSTM to the features the classifier reads."""
    h_n = h_n[0] if isinstance(h_n, tuple) else h_n  # the LSTM's (h, c): keep h
    dirs = 2 if model.config.bidirectional else 1
    return torch.cat(list(h_n.view(model.config.num_layers, dirs, *h_n.shape[1:])[-1]), dim=1)


def seeded(module: nn.Module, seed: int) -> nn.Module:
    """A recurrent module's weights drawn as PyTorch's default init does, U(-1/sqrt(H),
    1/sqrt(H)), from a generator of its own: the process-wide RNG that visitors' training
    jobs draw from is left alone."""
    gen = torch.Generator().manual_seed(seed)
    bound = module.hidden_size ** -0.5
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.rand(p.shape, generator=gen) * 2 * bound - bound)
    return module


def run_packed(model: NameClassifier, packed: PackedSequence) -> torch.Tensor:
    """PyTorch's own nn.RNN over packed indices: the final features, in the packed batch's
    order (sorted by length if it was packed with enforce_sorted=True)."""
    _, h_n = model.rnn(packed._replace(data=model.inputs(packed.data)))
    return last_layer(model, h_n)  # (B, dirs * H)


def output_last(b: LabBatch) -> Measure:
    """`output[-1]` of a right-padded batch against each name's own final state."""
    r = readout(b.model, b.vocab, b.names, b.classes)
    truth = [b.classes[i] for i in b.labels]
    hit = lambda tops: sum(t[0] == x for t, x in zip(tops, truth, strict=True)) / len(truth)
    bug, fix = hit(r.naive_top), hit(r.packed_top)
    rows = [row("top-1 on these names", pct(bug), pct(fix)),
            row("names whose answer changes", f"{r.changed} of {len(b.names)}", "0"),
            row("largest |Δh| from the fix", f"{max(r.max_abs_diff):.3f}", "0")]
    return Measure(rows, f"Reading the state after the padding costs {100 * (fix - bug):.1f} "
                         f"points of top-1 and changes {r.changed} answers.",
                   extra={"bug": bug, "fix": fix, "per_sample_diff": r.per_sample_diff},
                   effect=moved(r.changed))


def pad_inert(b: LabBatch) -> Measure:
    """How far the pad steps move the hidden state: biases act even on an all-zero input."""
    r = readout(b.model, b.vocab, b.names, b.classes)
    idx, lengths = b.encoded()
    padded = [d for d, n in zip(r.max_abs_diff, lengths.tolist(), strict=True)
              if n < idx.shape[0]]
    with torch.no_grad():  # one <pad> step from a zero state: only the biases act
        zero = idx.new_zeros(1, 1)  # (T=1, B=1)
        _, h_n = b.model.rnn(b.model.inputs(zero))
        shift = float(last_layer(b.model, h_n).abs().max())
    mean = sum(padded) / len(padded) if padded else 0.0
    rows = [row("mean max |Δh| of padded names", f"{mean:.3f}", f"{r.per_sample_diff:.1e}"),
            row("one <pad> step from h = 0 moves h to", f"max |h| = {shift:.3f}", "not run"),
            row("names whose answer changes", f"{r.changed} of {len(b.names)}", "0")]
    return Measure(rows, f"A pad step is not a no-op: an all-zero input still moves h by up to "
                         f"{shift:.3f} (the biases), so {len(padded)} padded names end elsewhere.",
                   extra={"mean": mean, "moved": shift, "per_sample_diff": r.per_sample_diff},
                   effect=moved(r.changed))


def backward_end(b: LabBatch, seed: int = 0) -> Measure:
    """The backward direction read at each name's last character, where it has just started."""
    model = b.model
    if model.config.bidirectional:
        rnn, note = model.rnn, "your model"
    else:  # a one-way model has no backward half: the same cell, both ways, random weights
        size = model.config.embedding_dim or model.config.vocab_size
        rnn = CELLS[model.config.cell](size, model.config.hidden_size, bidirectional=True)
        rnn = seeded(rnn, seed).to(device_of(model))
        note = f"a bidirectional {model.config.cell.upper()} with random weights"
    idx, lengths = b.encoded()
    hidden = model.config.hidden_size
    with torch.no_grad():
        packed = pack_padded_sequence(model.inputs(idx), lengths, enforce_sorted=False)
        out, h_n = rnn(packed)
        out, _ = pad_packed_sequence(out)  # (T, B, 2H)
        h_n = h_n[0] if isinstance(h_n, tuple) else h_n
        at_end = out[lengths.to(out.device) - 1,
                     torch.arange(len(lengths), device=out.device)]  # (B, 2H)
        wrong, right = at_end[:, hidden:], out[0, :, hidden:]  # backward halves (B, H)
        reference = h_n[-1]  # PyTorch's final backward state (B, H)
    gap = float((wrong - right).abs().amax(dim=1).mean())
    rows = [row("characters the backward half has read", "1 (the last)", "all of them"),
            row("mean max |Δh| of the backward half", f"{gap:.3f}", "0")]
    extra = {"gap": gap, "fix_vs_h_n": float((right - reference).abs().max()), "model": note}
    effect = "numbers"
    if model.config.bidirectional:
        fixed = torch.cat([at_end[:, :hidden], right], dim=1)
        bug, fix = top1(model, at_end, b.y), top1(model, fixed, b.y)
        rows.append(row("top-1 on these names", pct(bug), pct(fix)))
        extra |= {"bug": bug, "fix": fix}
        effect = moved(changed_answers(model, at_end, fixed))
    return Measure(rows, f"Read at the last character, the backward direction has seen one "
                         f"letter: its state is off by {gap:.3f} on average ({note}).",
                   extra=extra, effect=effect)


def batch_first_h_n(b: LabBatch) -> Measure:
    """`h_n[:, -1]` read as if h_n were batch-first: (layers, B, H) gives the last name's."""
    idx, lengths = b.encoded()
    with torch.no_grad():
        _, h_n = b.model.rnn(pack_padded_sequence(b.model.inputs(idx), lengths,
                                                  enforce_sorted=False))
        h_n = h_n[0] if isinstance(h_n, tuple) else h_n  # (layers * dirs, B, H)
        right = last_layer(b.model, h_n)
        fix = top1(b.model, right, b.y)
        wrong = h_n[:, -1]  # (layers * dirs, H): the last name, every layer
        try:
            guesses = b.model.h2o(wrong).argmax(dim=1).cpu()  # one row: broadcast below
            bug = float((guesses[-1] == b.y).float().mean())
            changed = int((b.model.h2o(right).argmax(1).cpu() != guesses[-1]).sum())
            error = ""
        except RuntimeError as err:
            bug, error, changed = None, str(err).splitlines()[0], 0
    answers = 1 if bug is not None else 0
    rows = [row("h_n's shape as read", f"{tuple(h_n.shape)} as (B, layers, H)",
                f"{tuple(h_n.shape)} as (layers, B, H)"),
            row("distinct answers", str(answers), str(len(set(b.model.h2o(right)
                                                             .argmax(dim=1).tolist())))),
            row("top-1 on these names", "error" if bug is None else pct(bug), pct(fix))]
    said = (f"Every name gets the last name's answer: top-1 {pct(bug)} instead of {pct(fix)}."
            if bug is not None else "The shapes no longer fit the output layer: it raises.")
    return Measure(rows, said, error, extra={"bug": bug, "fix": fix}, effect=moved(changed))


def unsorted(b: LabBatch) -> Measure:
    """Sorting the batch by hand for packing, and forgetting to put the answers back."""
    idx, lengths = b.encoded()
    with torch.no_grad():
        packed, unsort = pack_sorted(idx, lengths)  # enforce_sorted=True: sorted by hand
        in_sorted_order = run_packed(b.model, packed)  # (B, F), longest name first
        fixed = in_sorted_order[unsort.to(in_sorted_order.device)]
        reference = b.model.features(idx, lengths, "packed")  # enforce_sorted=False inside
        bug, fix = top1(b.model, in_sorted_order, b.y), top1(b.model, fixed, b.y)
        changed = changed_answers(b.model, in_sorted_order, fixed)
    given = int((unsort != torch.arange(len(unsort))).sum())
    rows = [row("names given another name's answer", f"{given} of {len(b.names)}", "0"),
            row("top-1 on these names", pct(bug), pct(fix))]
    return Measure(rows, f"{given} names get another name's answer: top-1 falls from {pct(fix)} "
                         f"to {pct(bug)}.",
                   extra={"bug": bug, "fix": fix,
                          "fix_vs_reference": float((fixed - reference).abs().max())},
                   effect=moved(changed))


def batch_sizes_as_lengths(b: LabBatch) -> Measure:
    """`packed.batch_sizes` zipped with the names as if it held their lengths."""
    idx, lengths = b.encoded()
    sizes = pack_padded_sequence(idx, lengths, enforce_sorted=False).batch_sizes  # (T,)
    k = min(len(b.names), len(sizes))  # zip(names, batch_sizes) stops at the shorter
    wrong = sizes[:k].clamp(1, idx.shape[0])  # a length past the grid would raise instead
    y = b.y[:k]
    with torch.no_grad():
        h_bug = b.model.features(idx[:, :k], wrong, "packed")
        h_fix = b.model.features(idx[:, :k], lengths[:k], "packed")
        bug, fix = top1(b.model, h_bug, y), top1(b.model, h_fix, y)
        changed = changed_answers(b.model, h_bug, h_fix)
    off = int((wrong != lengths[:k]).sum())
    rows = [row("first 'lengths'", str(sizes[:6].tolist()), str(lengths[:6].tolist())),
            row("names read to a wrong length", f"{off} of {k}", "0"),
            row("top-1 on these names", pct(bug), pct(fix))]
    return Measure(rows, f"batch_sizes count names per time step, not characters per name: "
                         f"{off} of {k} names are cut or over-read, top-1 {pct(fix)} → "
                         f"{pct(bug)}.", extra={"bug": bug, "fix": fix, "off": off,
                                                  "read_as": wrong.tolist()},
                   effect=moved(changed))


def shared_pad_index(b: LabBatch) -> Measure:
    """The commonest character given index 0, <pad>'s: the model reads it as padding."""
    counts = Counter(c for n in b.names for c in n if b.vocab.index(c) > 1)
    if not counts:
        raise ConfigError("these names have no known character to clash with <pad>")
    char = counts.most_common(1)[0][0]
    idx, lengths = b.encoded()
    clashed = idx.masked_fill(idx == b.vocab.index(char), 0)  # its rows now look like <pad>
    with torch.no_grad():
        h_bug = b.model.features(clashed, lengths, "packed")
        h_fix = b.model.features(idx, lengths, "packed")
        bug, fix = top1(b.model, h_bug, b.y), top1(b.model, h_fix, b.y)
        changed = changed_answers(b.model, h_bug, h_fix)
    share = counts[char] / int(lengths.sum())
    rows = [row(f"'{char}' is read as", "<pad>: an all-zero input", f"'{char}'"),
            row("characters the model cannot see", pct(share), "0%"),
            row("names whose answer changes", f"{changed} of {len(b.names)}", "0"),
            row("top-1 on these names", pct(bug), pct(fix))]
    return Measure(rows, f"'{char}' shares <pad>'s index, so {pct(share)} of the characters "
                         f"vanish: top-1 {pct(fix)} → {pct(bug)}.",
                   extra={"bug": bug, "fix": fix, "char": char, "changed": changed,
                          "gap": float((h_bug - h_fix).abs().max())},
                   effect=moved(changed))
