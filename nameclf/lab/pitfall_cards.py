"""The Pitfalls page's cards as data: each bug's wrong code, right code, and where it was
reported. Plain Python (no torch), so the page draws its cards before a model is ready;
`lab.pitfalls` measures each one.
"""

from dataclasses import dataclass

GH = "https://github.com/"


@dataclass(frozen=True)
class Card:
    """One bug: its words, its two versions of the code, and its real-world reports."""

    key: str  # also the name of its measurement in nameclf.lab.pitfalls
    title: str
    what: str  # one or two sentences: what people write and why it is wrong
    wrong: str
    right: str
    sources: tuple[tuple[str, str], ...]  # (label, url)
    needs: str = "classifier"  # classifier | generator: which model the measurement runs


CARDS: tuple[Card, ...] = (
    Card("output_last", "Reading output[-1] of a padded batch",
         "In a right-padded batch, the last time step is padding for every name but the "
         "longest. `output[-1]` is the state after reading those pads.",
         "out, h_n = rnn(x)  # x: (T, B, D), right-padded\n"
         "logits = fc(out[-1])  # the state after the pads",
         "packed = pack_padded_sequence(x, lengths, enforce_sorted=False)\n"
         "_, h_n = rnn(packed)\n"
         "logits = fc(h_n[-1])  # each name's own last character",
         (("pytorch/pytorch #517", GH + "pytorch/pytorch/issues/517"),
          ("pytorch/tutorials #3643", GH + "pytorch/tutorials/issues/3643"),
          ("nn.LSTM docs: h_n vs output", "https://pytorch.org/docs/stable/generated/"
                                          "torch.nn.LSTM.html"))),
    Card("pad_inert", "Thinking zero padding is inert",
         "A pad step feeds an all-zero vector, but the cell still adds its biases and its "
         "recurrent term, so the state keeps moving through the pads.",
         "x[t_pad] = 0  # 'zeros change nothing'\n"
         "out, h_n = rnn(x)  # h_n has read every pad step",
         "# a pad step is h = f(W_hh h + b_ih + b_hh): not h\n"
         "packed = pack_padded_sequence(x, lengths, enforce_sorted=False)\n"
         "_, h_n = rnn(packed)  # pad steps never run",
         (("pytorch/pytorch #517", GH + "pytorch/pytorch/issues/517"),)),
    Card("backward_end", "The backward direction at the wrong end",
         "A bidirectional RNN's backward half reads each name right to left, so it ends at "
         "the first character. At the last character it has read one letter.",
         "out, _ = pad_packed_sequence(rnn(packed)[0])  # (T, B, 2H)\n"
         "h = out[lengths - 1, range(B)]  # backward half: 1 letter read",
         "_, h_n = rnn(packed)\n"
         "h = torch.cat([h_n[-2], h_n[-1]], dim=1)  # forward end, backward end\n"
         "# or: out[lengths - 1, range(B), :H] with out[0, :, H:]",
         (("PyTorch forum thread 114814", "https://discuss.pytorch.org/t/114814"),)),
    Card("batch_first_h_n", "Assuming batch_first applies to h_n",
         "`batch_first=True` changes `output` only. `h_n` stays (layers × directions, B, H), "
         "so indexing it as (B, layers, H) picks the last name.",
         "rnn = nn.GRU(D, H, batch_first=True)\n"
         "_, h_n = rnn(x)\n"
         "h = h_n[:, -1]  # meant each name's last layer: (layers, H) of the LAST NAME",
         "_, h_n = rnn(x)  # h_n: (layers * dirs, B, H), batch_first or not\n"
         "h = h_n[-1]  # (B, H): the last layer, every name",
         (("pytorch/pytorch #19675", GH + "pytorch/pytorch/issues/19675"),
          ("pytorch/pytorch #4145", GH + "pytorch/pytorch/issues/4145"))),
    Card("unsorted", "Sorting by hand and not unsorting",
         "Old code sorted each batch longest-first to pack it, then compared the answers "
         "with the labels in the original order.",
         "order = lengths.argsort(descending=True)\n"
         "packed = pack_padded_sequence(x[:, order], lengths[order])\n"
         "_, h_n = rnn(packed)\n"
         "loss = F.cross_entropy(fc(h_n[-1]), y)  # h_n is in sorted order",
         "packed = pack_padded_sequence(x, lengths, enforce_sorted=False)\n"
         "_, h_n = rnn(packed)  # PyTorch unsorts h_n for you\n"
         "loss = F.cross_entropy(fc(h_n[-1]), y)",
         (("pytorch/pytorch PR #15225 (enforce_sorted=False)",
           GH + "pytorch/pytorch/pull/15225"),)),
    Card("batch_sizes_as_lengths", "Misreading batch_sizes as the lengths",
         "`packed.batch_sizes[t]` is how many names are still running at step t, not the "
         "length of name t. Both sum to the number of real characters, so a sum check passes.",
         "packed = pack_padded_sequence(x, lengths, enforce_sorted=False)\n"
         "for name, n in zip(names, packed.batch_sizes):   # 'n = its length'\n"
         "    ...",
         "for name, n in zip(names, lengths):  # keep the lengths you packed with\n"
         "    ...\n"
         "# batch_sizes[t] == (lengths > t).sum()",
         (("pytorch/pytorch #1203", GH + "pytorch/pytorch/issues/1203"),
          ("pytorch/pytorch #1820", GH + "pytorch/pytorch/issues/1820"),
          ("pytorch/pytorch #36448", GH + "pytorch/pytorch/issues/36448"))),
    Card("masked_mean", "Averaging a masked loss with .mean()",
         "Multiplying the per-cell loss by the mask zeroes the pad cells, but `.mean()` still "
         "divides by every cell, pads included: the loss shrinks as padding grows.",
         "cells = F.cross_entropy(logits, y, reduction='none')\n"
         "loss = (cells * mask).mean()  # ÷ T * B cells",
         "loss = (cells * mask).sum() / mask.sum()  # ÷ real cells\n"
         "# or: F.cross_entropy(logits, y, ignore_index=PAD)",
         (("segmentation_models.pytorch #852",
           GH + "qubvel-org/segmentation_models.pytorch/issues/852"),
          ("pytorch/tutorials #2840", GH + "pytorch/tutorials/issues/2840")),
         needs="generator"),
    Card("shared_pad_index", "A <pad> index that is also a real token",
         "The official translation tutorial sets `SOS_token = 0`. If a real token shares the "
         "pad index, every zero-padded or masked step treats it as padding.",
         "SOS_token = 0  # and pad with 0 too\n"
         "vocab = {'a': 0, 'b': 1, ...}  # 'a' shares <pad>'s index",
         "PAD, UNK = 0, 1  # reserved, never a real token\n"
         "vocab = {c: i + 2 for i, c in enumerate(chars)}",
         (("PyTorch seq2seq translation tutorial",
           "https://pytorch.org/tutorials/intermediate/seq2seq_translation_tutorial.html"),)),
    Card("lengths_on_device", "Lengths on the GPU",
         "`pack_padded_sequence` needs `lengths` as a CPU int64 tensor. Moving the whole "
         "batch to the GPU moves them too, and packing raises.",
         "lengths = lengths.to('cuda')\n"
         "pack_padded_sequence(x, lengths, enforce_sorted=False)  # raises",
         "pack_padded_sequence(x, lengths.cpu(), enforce_sorted=False)",
         (("pytorch/pytorch #43227", GH + "pytorch/pytorch/issues/43227"),
          ("pytorch/pytorch #47637", GH + "pytorch/pytorch/issues/47637"))),
    Card("total_length", "An unpacked output shorter than the input",
         "`pad_packed_sequence` pads to the longest name in the batch. When the input grid "
         "was padded wider (a fixed width, DataParallel chunks), the shapes no longer match.",
         "out, _ = pad_packed_sequence(out_packed)  # (T_longest, B, H)\n"
         "loss = (cells(out) * mask).sum()  # mask: (T_grid, B): raises",
         "out, _ = pad_packed_sequence(out_packed, total_length=x.size(0))",
         (("pytorch/pytorch #1591", GH + "pytorch/pytorch/issues/1591"),
          ("pytorch/pytorch #65890", GH + "pytorch/pytorch/issues/65890"))),
    Card("packing_speed", "Believing packing is always faster",
         "Packing skips the pad cells, but on a CPU a padded `nn.LSTM` runs a fused oneDNN "
         "kernel while a packed one steps through a generic loop. Measure; don't assume. "
         "(The Speed race's packed runs use this app's own hand-written kernel: another case.)",
         "packed = pack_padded_sequence(x, lengths, enforce_sorted=False)\n"
         "out, _ = lstm(packed)  # 'always faster'",
         "out, _ = lstm(x)  # time both on your device and batch\n"
         "h = out[lengths - 1, range(B)]  # exact for a one-way LSTM",
         (("pytorch/pytorch #149194", GH + "pytorch/pytorch/issues/149194"),)),
)

BY_KEY = {card.key: card for card in CARDS}

# what a bug does, as the learner is asked before measuring it (Measure.effect is the answer)
EFFECTS = {
    "answers": "It changes the answers",
    "numbers": "It changes a number (a state, a loss), not the answers",
    "error": "It raises an error",
    "speed": "It changes nothing but the speed",
}
# why each wrong guess is tempting, by (the guess, what the bug really did)
TEMPTING = {
    "error": "Code this wrong feels as if it should crash. But every shape fits, so PyTorch "
             "computes without a word: that is what makes the bug last.",
    "speed": "Padding and packing are usually sold as a speed trade-off. This bug changes what "
             "is computed, not only how fast.",
    ("numbers", "answers"): "The change looks small (a few pad steps, one index). But the "
                            "classifier reads exactly that state, so answers flip.",
    ("answers", "numbers"): "Anything wrong in a batch seems bound to reach the answers. Here it "
                            "moves the numbers, and the top label of these names stays.",
    ("answers", "error"): "Most of these bugs are silent. This one is not: PyTorch checks it "
                          "and raises.",
    ("numbers", "error"): "Most of these bugs are silent. This one is not: PyTorch checks it "
                          "and raises.",
    ("answers", "speed"): "Padded and packed runs give the same states here (the card checks "
                          "it): only the time differs.",
    ("numbers", "speed"): "Padded and packed runs give the same states here (the card checks "
                          "it): only the time differs.",
}


def feedback(guess: str, effect: str) -> tuple[bool, str]:
    """Whether a guess was right, and what to say: why it was tempting when it was not."""
    if guess == effect:
        return True, f"Right: {EFFECTS[effect].lower()}."
    why = TEMPTING.get((guess, effect)) or TEMPTING.get(guess, "")
    return False, f"Not quite: {EFFECTS[effect].lower()}. {why}".strip()
