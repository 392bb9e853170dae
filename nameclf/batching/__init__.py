"""Batching: names as tensors, the subject of the lesson.

One-hot rows, padding, sorting and packing (`encoding`), and a dataset encoded once and cut
into batches by a sampler (`batches`). Imports only `nameclf.data` and `nameclf.errors`; every
model, trainer and page builds on it.
"""

# How batches.sample_batches draws: with replacement (the tutorial), shuffled epochs, or
# length buckets. Here, not in batches.py, so the configs check it without importing torch.
SAMPLING = ("random", "epoch", "bucket")
