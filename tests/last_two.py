"""A tiny dataset whose label is decided by the last two letters alone, and a model of it.

Each name is 3 to 8 letters of a-h; its label says which half of the alphabet (a-d or e-h)
each of its last two letters is from: four labels, and nothing before them matters.
"""

import random

from nameclf.classify.config import ModelConfig, TrainConfig
from nameclf.classify.pipeline import Run, fit, prepare
from nameclf.data.dataset import LoadReport, NameDataset

LETTERS = "abcdefgh"


def label_of(name: str) -> str:
    return "".join("L" if c in "abcd" else "H" for c in name[-2:])  # LL, LH, HL, HH


def last_two_dataset(n: int = 1200, seed: int = 0) -> NameDataset:
    rng = random.Random(seed)
    names = sorted({"".join(rng.choice(LETTERS) for _ in range(rng.randint(3, 8)))
                    for _ in range(n)})
    return NameDataset(names, [label_of(x) for x in names], LoadReport("last-two"))


def last_two_run(steps: int = 500, cell: str = "gru", **fields) -> Run:
    """A small recurrent model trained on last_two_dataset (about 99% top-1)."""
    prep = prepare(last_two_dataset(), "names", seed=0)
    model = ModelConfig(cell=cell, hidden_size=32, embedding_dim=8, **fields)
    train = TrainConfig(optimizer="adamw", lr=0.01, batch_size=64, steps=steps, eval_every=0,
                        clip_grad=1.0, seed=0)
    return fit(prep, model, train)
