"""Why nameclf.classify.recurrence exists: time one training step of each cell with both kernels.

    python bench/kernels.py [--batch 512] [--hidden 128] [--threads 0]

Random names of realistic lengths (3-12 letters), one-hot input like the tutorial, the
forward and backward pass of one batch; also tanh against sigmoid on one step's worth of
numbers, which is why the hand-written cells compute tanh(x) as 2·sigmoid(2x) − 1.
Figures are milliseconds per call, medians of back-to-back repeats in one process.
"""

import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F

from nameclf.classify.config import ModelConfig
from nameclf.classify.model import CELLS, NameClassifier


def median_ms(fn, repeats: int = 30) -> float:
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=512, help="names per batch")
    parser.add_argument("--hidden", type=int, default=128, help="hidden units")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = default)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(0)
    vocab, classes = 60, 18
    lengths = torch.randint(3, 13, (args.batch,), generator=gen)
    idx = torch.randint(2, vocab, (12, args.batch), generator=gen)  # (T, B)
    idx[torch.arange(12)[:, None] >= lengths[None, :]] = 0
    y = torch.randint(classes, (args.batch,), generator=gen)
    x = torch.randn(args.batch, args.hidden)
    print(f"# torch {torch.__version__}, {torch.get_num_threads()} threads, batch {args.batch}, "
          f"hidden {args.hidden}", flush=True)
    print(json.dumps({"op": "tanh vs sigmoid", "shape": list(x.shape),
                      "tanh_ms": round(median_ms(lambda: torch.tanh(x), 200), 4),
                      "sigmoid_ms": round(median_ms(lambda: torch.sigmoid(x), 200), 4)}))
    for cell in CELLS:
        model = NameClassifier(ModelConfig(cell=cell, vocab_size=vocab, n_classes=classes,
                                           hidden_size=args.hidden))
        ms = {}
        for kernel in ("torch", "auto"):
            model.kernel = kernel
            ms[kernel] = median_ms(lambda m=model: F.nll_loss(m(idx, lengths), y).backward())
        print(json.dumps({"cell": cell, "torch_ms": round(ms["torch"], 2),
                          "nameclf_ms": round(ms["auto"], 2),
                          "speedup": round(ms["torch"] / ms["auto"], 2)}), flush=True)


if __name__ == "__main__":
    main()
