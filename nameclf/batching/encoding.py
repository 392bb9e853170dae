"""Names to tensors: indices, one-hot, padding, sorting and packing — pure functions."""

import torch
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence

from nameclf.data.vocab import PAD, Vocab
from nameclf.errors import ConfigError


def encode_batch(names: list[str], vocab: Vocab) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad a batch of names into time-major indices (T, B) and their lengths (B,)."""
    lengths = torch.tensor([len(n) for n in names], dtype=torch.long)  # (B,)
    idx = torch.zeros(int(lengths.max()), len(names), dtype=torch.long)  # (T, B), 0 = <pad>
    for b, name in enumerate(names):
        idx[: len(name), b] = torch.tensor(vocab.encode(name), dtype=torch.long)
    return idx, lengths


def one_hot_table(vocab_size: int) -> torch.Tensor:
    """Identity rows for each token, with the <pad> row all zeros (V, V)."""
    table = torch.eye(vocab_size)
    table[0] = 0.0
    return table


def one_hot(idx: torch.Tensor, vocab_size: int) -> torch.Tensor:
    """One-hot encode indices (T, B) into (T, B, V), zeros at padding like the tutorial."""
    return one_hot_table(vocab_size).to(idx.device)[idx]


def sort_by_length(lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices that sort a batch longest-first, and those that undo it (stable)."""
    sorted_indices = torch.sort(lengths, descending=True, stable=True).indices
    unsorted_indices = torch.empty_like(sorted_indices)
    unsorted_indices[sorted_indices] = torch.arange(len(lengths))
    return sorted_indices, unsorted_indices


def pack(x: torch.Tensor, lengths: torch.Tensor) -> PackedSequence:
    """Pack a padded (T, B, *) batch; PyTorch sorts and remembers the order."""
    return pack_padded_sequence(x, lengths.cpu(), enforce_sorted=False)


def pack_sorted(x: torch.Tensor, lengths: torch.Tensor) -> tuple[PackedSequence, torch.Tensor]:
    """Sort by length yourself, pack, and return the indices that unsort the output."""
    sorted_indices, unsorted_indices = sort_by_length(lengths)
    packed = pack_padded_sequence(x[:, sorted_indices], lengths[sorted_indices].cpu())
    return packed, unsorted_indices


def explain(names: list[str], vocab: Vocab | None = None) -> dict:
    """Every step from names to a packed batch, as plain data for a page or JSON."""
    if not names or not all(names):  # packing needs at least one step per name
        raise ConfigError("explain needs at least one name, and no empty names")
    vocab = vocab or Vocab.build(names)
    idx, lengths = encode_batch(names, vocab)  # (T, B), (B,)
    tokens = vocab.tokens
    packed = pack(idx, lengths)
    steps, batch = idx.shape
    real = int(lengths.sum())
    return {
        "names": list(names),
        "lengths": lengths.tolist(),
        "vocab": tokens,
        "indices": [vocab.encode(n) for n in names],
        "padded": [[tokens[i] for i in row] for row in idx.T.tolist()],  # (B, T) as characters
        "padded_indices": idx.tolist(),  # (T, B)
        "sorted_indices": packed.sorted_indices.tolist(),
        "unsorted_indices": packed.unsorted_indices.tolist(),
        # PyTorch's own order, which need not be stable among names of equal length
        "sorted_names": [names[i] for i in packed.sorted_indices.tolist()],
        "packed": [tokens[i] for i in packed.data.tolist()],  # time-major
        "batch_sizes": packed.batch_sizes.tolist(),
        "real_cells": real,
        "padded_cells": steps * batch,
        "pad_cells": steps * batch - real,
        "wasted_fraction": 1 - real / (steps * batch),
    }


def padding_waste(lengths: list[int], batch_size: int) -> float:
    """Fraction of padded cells when consecutive `lengths` are batched `batch_size` at a time."""
    real = padded = 0
    for start in range(0, len(lengths), batch_size):
        chunk = lengths[start : start + batch_size]
        real += sum(chunk)
        padded += max(chunk) * len(chunk)
    return 1 - real / padded if padded else 0.0


__all__ = ["PAD", "encode_batch", "explain", "one_hot", "one_hot_table", "pack", "pack_sorted",
           "padding_waste", "sort_by_length"]
