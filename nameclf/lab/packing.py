"""The padding-and-packing walkthrough as plain data, computed from the real tensors."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from nameclf.data.vocab import Vocab, normalize
from nameclf.errors import ConfigError

if TYPE_CHECKING:  # steps 1-5 are plain Python: torch loads only for the model of step 6
    from nameclf.classify.model import NameClassifier

MIN_NAMES, MAX_NAMES = 2, 8
MAX_LEN = 40  # longer typed names are refused: the grids would not fit on a page
STEPS = (
    "Characters → indices → one-hot",
    "Padding",
    "Sorting by length",
    "Packing",
    "The RNN consumes it",
    "Getting the answer back",
)


def parse_names(text: str, ascii_fold: bool = True) -> tuple[list[str], str | None]:
    """Comma- or newline-separated names, and a warning to show instead if they can't be used."""
    parts = [normalize(p, ascii_fold) for p in text.replace("\n", ",").split(",")]
    if len(parts) > 1 and not parts[-1]:
        parts = parts[:-1]  # a trailing comma is not an empty name
    empty = [i + 1 for i, p in enumerate(parts) if not p]
    if empty:
        where = ", ".join(str(i) for i in empty)
        return [], f"Name {where} is empty — remove the extra comma or type a name."
    if len(parts) < MIN_NAMES:
        return [], f"Type at least {MIN_NAMES} names, separated by commas: there is nothing to pad."
    if len(parts) > MAX_NAMES:
        return [], f"At most {MAX_NAMES} names fit the pictures; you typed {len(parts)}."
    long = [p for p in parts if len(p) > MAX_LEN]
    if long:
        return [], f"Names longer than {MAX_LEN} characters don't fit the grid: {long[0][:20]}…"
    return parts, None


def default_names(names: list[str], seed: int = 0) -> list[str]:
    """One medium, one short and one long name from a dataset, in that order.

    The order is a 3-cycle of the lengths, so sorting longest-first gives `sorted_indices`
    [2, 0, 1] and `unsorted_indices` [1, 2, 0]: different, and step 3 shows why both exist
    (a long-short-medium order is a swap, its own inverse).
    """
    by_len: dict[int, list[str]] = {}
    for n in sorted(set(names)):
        if 3 <= len(n) <= 12 and n.isalpha():
            by_len.setdefault(len(n), []).append(n)
    if len(by_len) < 3:
        return ["Sita", "Ram", "Shyam"]
    lengths = sorted(by_len)
    long, short = lengths[-1], lengths[0]
    medium = min(lengths[1:-1], key=lambda x: abs(x - (short + long) / 2))
    rng = random.Random(seed)
    return [rng.choice(by_len[x]) for x in (medium, short, long)]


def padding_waste(lengths: list[int], batch_size: int) -> float:
    """Fraction of padded cells when consecutive `lengths` are batched `batch_size` at a time
    (nameclf.batching.encoding.padding_waste's maths without torch; a test checks they agree)."""
    n = len(lengths)
    if batch_size == 1 or not n:  # one name per batch: nothing to pad
        return 0.0
    padded = sum(max(lengths[start : start + batch_size]) * min(batch_size, n - start)
                 for start in range(0, n, batch_size))
    return 1 - sum(lengths) / padded if padded else 0.0


def explain(names: list[str], vocab: Vocab) -> dict:
    """nameclf.batching.encoding.explain in plain Python, so the page draws before torch has loaded.

    The tests check every field against encoding.explain, which asks PyTorch itself
    (pack_padded_sequence), for many name sets with equal lengths among them.
    """
    if not names or not all(names):  # packing needs at least one step per name
        raise ConfigError("explain needs at least one name, and no empty names")
    lengths = [len(n) for n in names]
    steps, batch, tokens = max(lengths), len(names), vocab.tokens
    indices = [vocab.encode(n) for n in names]
    padded_rows = [row + [0] * (steps - len(row)) for row in indices]  # (B, T)
    order = sorted(range(batch), key=lambda b: -lengths[b])  # longest first, ties in order
    unsorted = [0] * batch
    for position, b in enumerate(order):
        unsorted[b] = position
    batch_sizes = [sum(1 for n in lengths if n > t) for t in range(steps)]
    packed = [indices[b][t] for t in range(steps) for b in order[: batch_sizes[t]]]
    real = sum(lengths)
    return {
        "names": list(names), "lengths": lengths, "vocab": tokens, "indices": indices,
        "padded": [[tokens[i] for i in row] for row in padded_rows],  # (B, T) as characters
        "padded_indices": [list(col) for col in zip(*padded_rows, strict=True)],  # (T, B)
        "sorted_indices": order, "unsorted_indices": unsorted,
        "sorted_names": [names[i] for i in order],
        "packed": [tokens[i] for i in packed],  # time-major
        "batch_sizes": batch_sizes, "real_cells": real, "padded_cells": steps * batch,
        "pad_cells": steps * batch - real, "wasted_fraction": 1 - real / (steps * batch),
    }


def walkthrough(names: list[str], vocab: Vocab) -> dict:
    """explain() plus the per-step extras the pictures need, all plain lists."""
    data = explain(names, vocab)
    lengths = data["lengths"]
    n_steps = len(data["batch_sizes"])
    data["unknown"] = sorted({c for n in names for c in vocab.unknown_chars(n)})
    data["vocab_size"] = len(vocab)
    data["shape"] = [n_steps, len(names), len(vocab)]  # (T, B, V) of the one-hot input
    data["last_t"] = [n - 1 for n in lengths]  # where each name's own answer is read
    # names (original positions) still being read at each step, in packed order
    data["active"] = [[b for b in data["sorted_indices"] if lengths[b] > t] for t in range(n_steps)]
    return data


def onehot_slice(data: dict, b: int) -> list[list[float]]:
    """The (T, V) one-hot rows of name `b`, zeros at its padding (index 0)."""
    width = data["vocab_size"]
    return [[1.0 if j == row[b] and j else 0.0 for j in range(width)]
            for row in data["padded_indices"]]  # (T, V)


def step_status(data: dict, t: int) -> list[dict]:
    """What happens to each name (original order) at time step `t` of the packed RNN."""
    rows = []
    for name, n in zip(data["names"], data["lengths"], strict=True):
        if t < n:
            what = f"reads '{name[t]}' → h updated"
            state = "reading"
        elif t == n:
            what, state = f"finished at t={n - 1}: h frozen, not in the batch any more", "finished"
        else:
            what, state = f"finished at t={n - 1}", "finished"
        rows.append({"name": name, "length": n, "status": state, "at this step": what})
    return rows


def fresh_model(vocab_size: int, n_classes: int, seed: int = 0) -> NameClassifier:
    """A randomly initialised LSTM, for when the visitor has not trained one yet."""
    import torch

    from nameclf.classify.config import ModelConfig
    from nameclf.classify.model import NameClassifier

    torch.manual_seed(seed)
    cfg = ModelConfig(cell="lstm", vocab_size=vocab_size, n_classes=max(2, n_classes),
                      hidden_size=64)
    return NameClassifier(cfg)


@dataclass
class Readout:
    """Final states of the same names read three ways, and what the classifier says."""

    names: list[str]
    max_abs_diff: list[float]  # per name: |packed - naive| hidden state, max over units
    per_sample_diff: float  # max |packed - one-name-at-a-time|: ~0, packing is exact
    packed_top: list[tuple[str, float]]  # top label and its probability, packed
    naive_top: list[tuple[str, float]]  # the same after reading the padding
    hidden_size: int
    prob_shift: list[float]  # per name: the largest |p_packed - p_naive| over every label

    @property
    def changed(self) -> int:
        """How many names get a different top label when the padding is read."""
        return sum(p[0] != q[0] for p, q in zip(self.packed_top, self.naive_top, strict=True))

    def rows(self) -> list[dict]:
        """One table row per name."""
        return [{"name": n, "max |Δh|": d, "packed: label": p[0], "packed: p": p[1],
                 "naive: label": q[0], "naive: p": q[1], "max |Δp|": dp,
                 "changed": p[0] != q[0]}
                for n, d, p, q, dp in zip(self.names, self.max_abs_diff, self.packed_top,
                                          self.naive_top, self.prob_shift, strict=True)]

    def change_note(self) -> str:
        """What reading the padding changed, in probability, not only in the top label."""
        shift = max(self.prob_shift, default=0.0)
        said = (f"The top label changed for {self.changed} of {len(self.names)} names"
                if self.changed else "No name's top label changed")
        note = (f"{said}; the largest move of any label's probability was "
                f"{100 * shift:.2f} percentage points.")
        if self.changed and shift < 0.01:  # flips between near-equal labels, not a real change
            note += (" That is tiny: these labels were all but tied (a random model gives each "
                     "about the same probability), so the flip says little. Train a model to "
                     "see padding change a real answer.")
        return note


def readout(model: NameClassifier, vocab: Vocab, names: list[str], classes: list[str]) -> Readout:
    """Packed (exact) vs naive (state after the padding) features and predictions."""
    import torch

    from nameclf.batching.encoding import encode_batch

    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    with torch.no_grad():
        try:
            idx, lengths = encode_batch(names, vocab)  # (T, B), (B,)
            idx = idx.to(device)
            packed = model.features(idx, lengths, "packed")  # (B, H)
            naive = model.features(idx, lengths, "naive")  # (B, H)
            alone = torch.cat([model.features(idx[: int(n), b : b + 1], lengths[b : b + 1],
                                              "packed")
                               for b, n in enumerate(lengths)])  # (B, H), one name at a time
            probs = [torch.softmax(model.h2o(h), dim=1).cpu() for h in (packed, naive)]  # (B, C)
        finally:
            model.train(was_training)
    label = lambda i: classes[i] if i < len(classes) else f"class {i}"  # a 1-label dataset
    tops = [[(label(int(i)), float(p[i])) for p, i in zip(pr, pr.argmax(1), strict=True)]
            for pr in probs]
    return Readout(list(names), (packed - naive).abs().amax(dim=1).cpu().tolist(),
                   float((packed - alone).abs().max()), tops[0], tops[1], packed.shape[1],
                   (probs[0] - probs[1]).abs().amax(dim=1).tolist())


def batch_waste(lengths: list[int], batch_size: int, seed: int = 0) -> float:
    """Padding waste of random batches of `batch_size` names with these lengths."""
    shuffled = list(lengths)
    random.Random(seed).shuffle(shuffled)
    return padding_waste(shuffled, batch_size)


def summary(data: dict, waste_512: float) -> str:
    """The one-line takeaway for the chosen names and a batch of 512 dataset names."""
    real, padded = data["real_cells"], data["padded_cells"]
    return (f"These {len(data['names'])} names need **{real}** real timesteps; padded they cost "
            f"**{padded}** ({data['wasted_fraction']:.0%} wasted). In random batches of 512 names "
            f"from this dataset, padding wastes **{waste_512:.0%}** of the recurrent compute — "
            f"packing skips all of it.")


def _t(values: list[int]) -> str:
    return f"tensor({values})"


def step_code(step: int, data: dict, cell: str = "lstm") -> str:
    """The exact PyTorch calls behind a step, with this batch's values in the comments; step 6
    reads the final state as `cell` (rnn, lstm or gru) returns it."""
    names, (n_steps, batch, v) = data["names"], data["shape"]
    first = names[0]
    if step == 1:
        return (f"vocab.encode({first!r})  # {data['indices'][0]}   (0 = <pad>, 1 = <unk>)\n"
                f"idx, lengths = encode_batch(names, vocab)  # idx (T, B) = ({n_steps}, {batch})\n"
                f"table = torch.eye({v}); table[0] = 0  # one row per token; <pad> → zeros\n"
                f"x = table[idx]  # (T, B, V) = ({n_steps}, {batch}, {v})\n"
                f"x[:, b, :]  # one name's (T, V) slice, shown above")
    if step == 2:
        return (f"lengths = torch.tensor([len(n) for n in names])  # {_t(data['lengths'])}\n"
                f"idx = torch.zeros(lengths.max(), len(names), dtype=torch.long)  "
                f"# ({n_steps}, {batch}), 0 = <pad>\n"
                "for b, name in enumerate(names):\n"
                "    idx[: len(name), b] = torch.tensor(vocab.encode(name))\n"
                "# the same as torch.nn.utils.rnn.pad_sequence([torch.tensor(vocab.encode(n)) "
                "for n in names])")
    if step == 3:
        return (f"sorted_indices = torch.sort(lengths, descending=True, stable=True).indices"
                f"  # {_t(data['sorted_indices'])}\n"
                "unsorted_indices = torch.empty_like(sorted_indices)\n"
                f"unsorted_indices[sorted_indices] = torch.arange({batch})"
                f"  # {_t(data['unsorted_indices'])}\n"
                "# enforce_sorted=False does this for you and keeps both in the PackedSequence:\n"
                "packed = pack_padded_sequence(x, lengths, enforce_sorted=False)")
    if step == 4:
        return ("packed = pack_padded_sequence(x, lengths, enforce_sorted=False)\n"
                f"packed.data.shape  # ({data['real_cells']}, {v}): one row per real character\n"
                f"packed.batch_sizes  # {_t(data['batch_sizes'])}\n"
                f"packed.sorted_indices  # {_t(data['sorted_indices'])}\n"
                f"packed.unsorted_indices  # {_t(data['unsorted_indices'])}")
    if step == 5:
        return ("output, h_n = rnn(packed)  # the cell runs T times, each on a shrinking batch:\n"
                f"# step t uses data[start : start + batch_sizes[t]], batch_sizes = "
                f"{data['batch_sizes']}\n"
                "# a finished name drops out, so its hidden state stays what it was")
    final = ("_, (h_n, c_n) = rnn(packed)  # an LSTM returns (h_n, c_n): keep h_n, "
             "(layers, B, H)" if cell == "lstm" else
             f"_, h_n = rnn(packed)  # {'a GRU' if cell == 'gru' else 'an RNN'} returns h_n, "
             "(layers, B, H)")
    return (final + "\n"
            "# each name's state after its own last character, back in the original order\n"
            "logits = h2o(h_n[-1])  # model.features(idx, lengths, 'packed')\n\n"
            "# naive (wrong): run over the padded tensor and take the last time step\n"
            "out, _ = rnn(x)  # (T, B, H)\n"
            "h_naive = out[-1]  # model.features(idx, lengths, 'naive')\n\n"
            "# exact without packing: gather each name's state at lengths - 1\n"
            "last = (lengths - 1).view(1, -1, 1).expand(1, -1, out.size(2))\n"
            "h_padded = out.gather(0, last).squeeze(0)  # model.features(idx, lengths, 'padded')")
