"""Seeded train/validation/test splits: the tutorial's `rows`, and leak-free `names`."""

import random
from collections import Counter, defaultdict
from dataclasses import dataclass

from nameclf.data.dataset import NameDataset
from nameclf.errors import ConfigError, DataError

SPLITS = ("names", "rows")


@dataclass
class Split:
    """Row indices into a dataset for each side of a split."""

    kind: str  # "names" (leak-free) or "rows" (the tutorial's)
    train: list[int]
    test: list[int]
    valid: list[int]  # carved out of training; empty unless asked for


def stratified(groups: dict[str, list], frac: float, rng: random.Random) -> tuple[list, list]:
    """Send `frac` of each label's items to the second list (at least one if it has two)."""
    keep, held = [], []
    for label in sorted(groups):
        items = list(groups[label])
        rng.shuffle(items)
        n_held = round(len(items) * frac)
        if frac > 0 and len(items) >= 2:
            n_held = min(max(n_held, 1), len(items) - 1)
        held += items[:n_held]
        keep += items[n_held:]
    return keep, held


def majority_label(ds: NameDataset, rows: list[int]) -> str:
    """The most frequent label of these rows (the first seen among ties)."""
    return Counter(ds.labels[i] for i in rows).most_common(1)[0][0]  # stable: first seen wins


def make_split(ds: NameDataset, kind: str = "names", test_frac: float = 0.2,
               valid_frac: float = 0.0, seed: int = 0) -> Split:
    """Split a dataset; `names` keeps every row of a name on one side, repeated rows included,
    so a name's label frequencies reach training as the data has them."""
    if kind not in SPLITS:
        raise ConfigError(f"unknown split {kind!r}; choose one of {', '.join(SPLITS)}")
    if not 0 < test_frac < 1 or not 0 <= valid_frac < 1:
        raise ConfigError("test and validation fractions must lie between 0 and 1")
    rng = random.Random(seed)
    if kind == "rows":
        by_label = defaultdict(list)
        for i, label in enumerate(ds.labels):
            by_label[label].append(i)
        train, test = stratified(by_label, test_frac, rng)
        train, valid = carve(train, lambda i: ds.labels[i], valid_frac, rng)
        return checked(Split(kind, sorted(train), sorted(test), sorted(valid)), ds)
    rows_of = defaultdict(list)  # name -> indices of all its rows
    for i, name in enumerate(ds.names):
        rows_of[name].append(i)
    label_of = {name: majority_label(ds, rows) for name, rows in rows_of.items()}
    by_label = defaultdict(list)  # a name is stratified by its most frequent label
    for name in rows_of:
        by_label[label_of[name]].append(name)
    train_names, test_names = stratified(by_label, test_frac, rng)
    train_names, valid_names = carve(train_names, label_of.get, valid_frac, rng)
    flat = lambda names: sorted(i for n in names for i in rows_of[n])  # noqa: E731
    return checked(Split(kind, flat(train_names), flat(test_names), flat(valid_names)), ds)


def checked(split: Split, ds: NameDataset) -> Split:
    """Refuse a split with nothing to test on or train on (too few distinct names)."""
    if not split.test or not split.train:
        raise DataError(f"the {split.kind} split leaves no {'test' if split.train else 'train'}"
                        f"ing names: {len(set(ds.names)):,} distinct names are too few (each "
                        "label needs 2 distinct names for a leak-free split)")
    return split


def carve(items: list, label_of, frac: float, rng: random.Random) -> tuple[list, list]:
    """Carve a stratified validation part out of the training items."""
    if frac <= 0:
        return items, []
    by_label = defaultdict(list)
    for item in items:
        by_label[label_of(item)].append(item)
    return stratified(by_label, frac, rng)


def leaked_pairs(ds: NameDataset, split: Split) -> int:
    """How many test rows repeat a training row exactly (same name, same label)."""
    train_pairs = {(ds.names[i], ds.labels[i]) for i in split.train}
    return sum((ds.names[i], ds.labels[i]) in train_pairs for i in split.test)


def leaked_rows(ds: NameDataset, split: Split) -> int:
    """How many test rows have their name in the training rows too."""
    train_names = {ds.names[i] for i in split.train}
    return sum(ds.names[i] in train_names for i in split.test)


def label_counts(ds: NameDataset, rows: list[int]) -> dict[str, dict[str, int]]:
    """name -> label -> how many of these rows hold that pair."""
    counts = defaultdict(lambda: defaultdict(int))
    for i in rows:
        counts[ds.names[i]][ds.labels[i]] += 1
    return counts


def top1_ceiling(ds: NameDataset, rows: list[int]) -> float:
    """The best top-1 any classifier can reach on these rows: it gives one answer per name,
    so of a name's rows only those of its most frequent label there can be right."""
    counts = label_counts(ds, rows).values()
    return sum(max(by_label.values()) for by_label in counts) / len(rows) if rows else 1.0


def shared_rows(ds: NameDataset, rows: list[int]) -> int:
    """How many of these rows have a name that these rows also hold under another label."""
    return sum(sum(by_label.values()) for by_label in label_counts(ds, rows).values()
               if len(by_label) > 1)
