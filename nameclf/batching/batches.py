"""A dataset encoded once as tensors, and the batches sampled from it."""

from dataclasses import dataclass

import torch

from nameclf.batching import SAMPLING
from nameclf.data.vocab import Vocab
from nameclf.errors import ConfigError


@dataclass
class Encoded:
    """Names as padded indices on the device, ready to be sliced into batches."""

    idx: torch.Tensor  # (N, T_max) long, on the device; 0 = <pad>
    lengths: torch.Tensor  # (N,) long, on the CPU (packing wants CPU lengths)
    labels: torch.Tensor  # (N,) long, on the device

    def __len__(self) -> int:
        return len(self.lengths)


def encode_names(names: list[str], labels: list[int], vocab: Vocab,
                 device: torch.device | str = "cpu") -> Encoded:
    """Encode every name once; batches are then just index selections."""
    lengths = torch.tensor([len(n) for n in names], dtype=torch.long)  # (N,)
    idx = torch.zeros(len(names), int(lengths.max()) if names else 1, dtype=torch.long)  # (N, T)
    for i, name in enumerate(names):
        idx[i, : len(name)] = torch.tensor(vocab.encode(name), dtype=torch.long)
    return Encoded(idx.to(device), lengths, torch.tensor(labels, dtype=torch.long).to(device))


def take(enc: Encoded, sel: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Batch `sel` (CPU indices) as time-major indices (T, B), lengths (B,), labels (B,)."""
    lengths = enc.lengths[sel]  # (B,)
    dev_sel = sel.to(enc.idx.device)
    idx = enc.idx[dev_sel, : int(lengths.max())].T  # (T, B)
    return idx, lengths, enc.labels[dev_sel]


def sample_batches(lengths: torch.Tensor, batch_size: int, sampling: str,
                   generator: torch.Generator):
    """Yield index tensors forever: random with replacement, shuffled epochs, or length buckets."""
    if sampling not in SAMPLING:
        raise ConfigError(f"unknown sampling {sampling!r}; choose one of {', '.join(SAMPLING)}")
    n = len(lengths)
    batch_size = min(batch_size, n) if sampling != "random" else batch_size
    while True:
        if sampling == "random":  # the tutorial: independent draws with replacement
            yield torch.randint(n, (batch_size,), generator=generator)
            continue
        perm = torch.randperm(n, generator=generator)
        batches = list(perm.split(batch_size))
        if sampling == "bucket":  # sort within chunks so a batch holds similar lengths
            chunk = 32 * batch_size
            batches = []
            for part in perm.split(chunk):
                part = part[torch.sort(lengths[part], stable=True).indices]
                batches += list(part.split(batch_size))
            order = torch.randperm(len(batches), generator=generator).tolist()
            batches = [batches[i] for i in order]
        yield from batches
