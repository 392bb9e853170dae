"""The batching bugs of losses, devices, shapes and speed, and every card's measurement by name.

The hidden-state cards and the `LabBatch` and `Measure` every card uses are in
`lab.pitfall_states`; the loss card calls `generate.loss.loss_report`, never a copy. The cards'
words and code are in `lab.pitfall_cards`.
"""

from __future__ import annotations

import time

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from nameclf.data.vocab import Vocab
from nameclf.generate.batches import LmBatch, batch_of
from nameclf.generate.loss import loss_report, per_sample_loss
from nameclf.generate.model import NameGenerator
from nameclf.lab.pitfall_states import (
    LabBatch,
    Measure,
    backward_end,
    batch_first_h_n,
    batch_sizes_as_lengths,
    output_last,
    pad_inert,
    pct,
    row,
    sample_batch,
    seeded,
    shared_pad_index,
    top1,
    unsorted,
)


def masked_mean(gen: NameGenerator, vocab: Vocab, names: list[str], labels: list[int]) -> Measure:
    """The generator's masked loss averaged with `.mean()` over every cell, against the true
    mean over the real cells (and, for reference, one name at a time, unpadded)."""
    batch = batch_of(names, labels, vocab)
    device = next(gen.parameters()).device  # the lengths stay on the CPU, as packing wants
    batch = LmBatch(batch.inputs.to(device), batch.targets.to(device), batch.lengths,
                    batch.labels.to(device))
    gen.eval()
    report = loss_report(gen, batch)
    with torch.no_grad():
        reference = float(per_sample_loss(gen, batch))  # one name at a time, no padding
    bug = report["masked"] * report["real_cells"] / report["cells"]  # (cells * mask).mean()
    rows = [row("loss (nats per target)", f"{bug:.3f}", f"{report['masked']:.3f}"),
            row("divided by", f"{report['cells']:,} cells (pad too)",
                f"{report['real_cells']:,} real cells"),
            row("one name at a time, unpadded", "", f"{reference:.3f}"),
            row("no mask at all (pads scored)", f"{report['unmasked']:.3f}", "")]
    return Measure(rows, f"{pct(report['pad_share'])} of the cells are padding, so .mean() "
                         f"reports {bug:.3f} for a loss of {report['masked']:.3f}: "
                         f"{pct(1 - bug / report['masked'])} too low, and it moves with "
                         "the padding.",
                   extra={"bug": bug, "fix": report["masked"], "packed": report["packed"],
                          "reference": reference, "pad_share": report["pad_share"]})


def lengths_on_device(b: LabBatch) -> Measure:
    """`lengths` on the GPU: pack_padded_sequence refuses them. Run on CUDA where there is
    one, else on PyTorch's `meta` device, which meets the same check."""
    idx, lengths = b.encoded()
    where = "cuda" if torch.cuda.is_available() else "meta"
    order = lengths.argsort(descending=True)  # sorted, so PyTorch goes straight to its check
    try:
        x = idx.cpu()[:, order].to("cuda" if where == "cuda" else "cpu")  # (T, B)
        pack_padded_sequence(x, lengths[order].to(where))
        error = ""
    except RuntimeError as err:
        error = str(err).splitlines()[0]
    ok = pack_padded_sequence(idx, lengths.cpu(), enforce_sorted=False)
    rows = [row("lengths live on", where, "cpu"),
            row("pack_padded_sequence", "raises" if error else "packs",
                f"packs {int(ok.batch_sizes.sum())} cells")]
    ran = "on this machine's GPU" if where == "cuda" else "with a meta tensor (no GPU here)"
    return Measure(rows, f"PyTorch wants the lengths on the CPU. Run {ran}, it says:", error,
                   extra={"where": where})


def total_length(b: LabBatch, width: int | None = None) -> Measure:
    """pad_packed_sequence without `total_length`: as long as the longest name, not the grid."""
    idx, lengths = b.encoded()
    width = width or idx.shape[0] + 3  # a grid padded wider, as a fixed-width loader does
    grid = torch.cat([idx, idx.new_zeros(width - idx.shape[0], idx.shape[1])])  # (W, B)
    mask = grid != 0  # (W, B): what a loss would weigh
    with torch.no_grad():
        packed = pack_padded_sequence(b.model.inputs(grid), lengths, enforce_sorted=False)
        out, _ = b.model.rnn(packed)
        short, _ = pad_packed_sequence(out)  # (T_max, B, H)
        full, _ = pad_packed_sequence(out, total_length=width)  # (W, B, H)
    try:
        short[..., 0] * mask  # noqa: B018 (the elementwise use that fails)
        error = ""
    except RuntimeError as err:
        error = str(err).splitlines()[0]
    rows = [row("output's time steps", str(short.shape[0]), str(full.shape[0])),
            row("the input grid's time steps", str(width), str(width))]
    return Measure(rows, f"The unpacked output has {short.shape[0]} steps for a grid of {width}: "
                         "lined up with the mask, it raises.", error,
                   extra={"short": short.shape[0], "full": full.shape[0]})


def packing_speed(b: LabBatch, repeats: int = 5, hidden: int = 128) -> Measure:
    """PyTorch's own nn.LSTM forward on these names, padded against packed (median time)."""
    idx, lengths = b.encoded()
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(int(idx.max()) + 1, 16, generator=gen)[idx.cpu()]  # (T, B, 16): embedded
    lstm = seeded(nn.LSTM(16, hidden), 0)
    packed = pack_padded_sequence(x, lengths, enforce_sorted=False)

    def clock(fn) -> float:
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return sorted(times)[len(times) // 2]

    with torch.no_grad():
        padded_s = clock(lambda: lstm(x))
        packed_s = clock(lambda: lstm(packed))
        _, (h_packed, _) = lstm(packed)
        out, _ = lstm(x)
        h_padded = out[lengths - 1, torch.arange(len(lengths))]  # (B, H) at each last char
    waste = 1 - int(lengths.sum()) / idx.numel()
    rows = [row(f"forward time (median of {repeats})", f"{1000 * packed_s:.1f} ms packed",
                f"{1000 * padded_s:.1f} ms padded"),
            row("pad cells computed", "0", pct(waste))]
    ratio = max(packed_s, padded_s) / min(packed_s, padded_s)
    said = (f"Here the packed LSTM is faster ({ratio:.1f}x): it skips the {pct(waste)} of cells "
            "that are padding. Another batch or device can turn this round: measure."
            if packed_s < padded_s else
            f"Here the padded LSTM is faster ({ratio:.1f}x), though {pct(waste)} of its cells "
            "are padding: its fused kernel beats the packed step-by-step loop.")
    return Measure(rows, said,
                   extra={"padded_s": padded_s, "packed_s": packed_s, "waste": waste,
                          "same": float((h_packed[-1] - h_padded).abs().max())},
                   effect="speed")


__all__ = ["LabBatch", "Measure", "backward_end", "batch_first_h_n", "batch_sizes_as_lengths",
           "lengths_on_device", "masked_mean", "output_last", "packing_speed", "pad_inert",
           "sample_batch", "seeded", "shared_pad_index", "top1", "total_length", "unsorted"]
