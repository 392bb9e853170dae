"""The loss of a batch of names, four ways: three right ones and the teaching foil.

Every right loss is the mean, over every real target cell (characters and <eos>), of the
cross-entropy of the next token; they differ in how they avoid scoring the padding:
  * per-sample: one unpadded name at a time (the name-generation tutorial), summed;
  * padded + masked: one padded batch, pad targets skipped by `ignore_index`;
  * packed: the real cells only, so there is nothing to skip.
The unmasked padded loss scores the pad cells too (the mistake of pytorch/tutorials#2840):
it averages over T * B cells, and adds how well the net predicts <pad> after each name.
"""

import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence

from nameclf.errors import ConfigError
from nameclf.generate.batches import PAD_ID, LmBatch
from nameclf.generate.config import GEN_BATCHING
from nameclf.generate.model import NameGenerator


def masked_loss(logits: torch.Tensor, targets: torch.Tensor,
                reduction: str = "mean") -> torch.Tensor:
    """Cross-entropy over the real target cells of padded logits (T, B, V), targets (T, B)."""
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1),
                           ignore_index=PAD_ID, reduction=reduction)


def unmasked_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """The foil: cross-entropy over every cell, padding included (never train with it)."""
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))


def packed_targets(batch: LmBatch) -> torch.Tensor:
    """The real target cells (N,) in packed order: the order forward_packed's logits are in."""
    return pack_padded_sequence(batch.targets, batch.lengths.cpu(), enforce_sorted=False).data


def packed_loss(model: NameGenerator, batch: LmBatch, reduction: str = "mean") -> torch.Tensor:
    """Cross-entropy on the packed outputs: no padding, so no mask."""
    logits, _ = model.forward_packed(batch.inputs, batch.lengths, batch.labels)  # (N, V)
    return F.cross_entropy(logits, packed_targets(batch), reduction=reduction)


def padded_loss(model: NameGenerator, batch: LmBatch) -> torch.Tensor:
    """The masked loss of one padded forward pass."""
    logits, _ = model(batch.inputs, batch.labels)  # (T, B, V)
    return masked_loss(logits, batch.targets)


def sample_losses(model: NameGenerator, batch: LmBatch) -> list[torch.Tensor]:
    """Each name's summed cross-entropy, run alone and unpadded (the tutorial's loop)."""
    out = []
    for b, n in enumerate(batch.lengths.tolist()):
        logits, _ = model(batch.inputs[:n, b : b + 1], batch.labels[b : b + 1])  # (n, 1, V)
        out.append(F.cross_entropy(logits[:, 0], batch.targets[:n, b], reduction="sum"))
    return out


def per_sample_loss(model: NameGenerator, batch: LmBatch) -> torch.Tensor:
    """The per-sample losses summed, over the batch's real target cells."""
    return torch.stack(sample_losses(model, batch)).sum() / int(batch.lengths.sum())


def batch_loss(model: NameGenerator, batch: LmBatch, batching: str) -> torch.Tensor:
    """The mean loss per real target cell, computed the way `batching` says."""
    if batching == "packed":
        return packed_loss(model, batch)
    if batching == "padded":
        return padded_loss(model, batch)
    if batching == "per-sample":
        return per_sample_loss(model, batch)
    raise ConfigError(f"unknown batching {batching!r}; choose one of {', '.join(GEN_BATCHING)}")


def loss_report(model: NameGenerator, batch: LmBatch) -> dict:
    """Masked, unmasked and packed loss of one batch side by side, and the pad share."""
    with torch.no_grad():
        logits, _ = model(batch.inputs, batch.labels)  # (T, B, V)
        cells = F.cross_entropy(logits.reshape(-1, logits.size(-1)), batch.targets.reshape(-1),
                                reduction="none").view_as(batch.targets)  # (T, B)
        mask = batch.mask
        n_real, n_cells = int(mask.sum()), mask.numel()
        return {
            "masked": float(cells[mask].sum() / n_real),
            "unmasked": float(cells.mean()),
            "packed": float(packed_loss(model, batch)),
            "pad_share": 1 - n_real / n_cells,
            "real_cells": n_real,
            "cells": n_cells,
            "pad_loss": float(cells[~mask].sum()),  # what predicting <pad> after names costs
            "cell_losses": cells.T.tolist(),  # (B, T)
        }
