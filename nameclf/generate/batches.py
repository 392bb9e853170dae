"""Names as language-model examples: input = <sos> + name, target = name + <eos>, padded.

Each name of n characters gives n + 1 (input, target) pairs, one per position:
    input   <sos>  S  m  i  t  h
    target    S    m  i  t  h  <eos>
The padded cells of a batch hold <pad> (0) in both grids; a loss must leave them out.
"""

import hashlib
from dataclasses import dataclass

import torch

from nameclf.data.dataset import NameDataset
from nameclf.data.splits import Split, leaked_rows, make_split
from nameclf.data.vocab import PAD, Vocab

PAD_ID = 0  # <pad> in inputs and targets: never counted by the masked loss
EVAL_BATCH = 1024  # names per batch when scoring a whole split (training and mixture alike)


def token_names(vocab: Vocab) -> list[str]:
    """Every token by id: pad, unk, characters, eos, sos."""
    return [*vocab.tokens, "<eos>", "<sos>"]


def shifted(name: str, vocab: Vocab) -> tuple[list[int], list[int]]:
    """The (inputs, targets) ids of one name: <sos> + name, and name + <eos>."""
    ids = vocab.encode(name)
    eos, sos = len(vocab), len(vocab) + 1
    return [sos, *ids], [*ids, eos]


@dataclass
class LmData:
    """Names encoded once as shifted, padded rows; batches are index selections."""

    inputs: torch.Tensor  # (N, T_max) long, on the device; 0 = <pad>
    targets: torch.Tensor  # (N, T_max) long, on the device; 0 = <pad>
    lengths: torch.Tensor  # (N,) long, on the CPU: characters + 1 (the <eos> step)
    labels: torch.Tensor  # (N,) long, on the device

    def __len__(self) -> int:
        return len(self.lengths)

    @property
    def n_targets(self) -> int:
        """Real target cells: every character and each name's <eos>."""
        return int(self.lengths.sum())


def encode_lm(names: list[str], labels: list[int], vocab: Vocab,
              device: torch.device | str = "cpu") -> LmData:
    """Shift and pad every name once."""
    lengths = torch.tensor([len(n) + 1 for n in names], dtype=torch.long)  # (N,)
    width = int(lengths.max()) if names else 1
    inputs = torch.zeros(len(names), width, dtype=torch.long)  # (N, T)
    targets = torch.zeros(len(names), width, dtype=torch.long)  # (N, T)
    for i, name in enumerate(names):
        x, y = shifted(name, vocab)
        inputs[i, : len(x)] = torch.tensor(x)
        targets[i, : len(y)] = torch.tensor(y)
    return LmData(inputs.to(device), targets.to(device), lengths,
                  torch.tensor(labels, dtype=torch.long).to(device))


@dataclass
class LmBatch:
    """One time-major batch: the grids a recurrent net reads and the loss scores."""

    inputs: torch.Tensor  # (T, B)
    targets: torch.Tensor  # (T, B), <pad> beyond each name's length
    lengths: torch.Tensor  # (B,) on the CPU
    labels: torch.Tensor  # (B,)

    @property
    def mask(self) -> torch.Tensor:
        """Which target cells count (T, B): True for characters and <eos>, False for pad."""
        return self.targets != PAD_ID


def take(data: LmData, sel: torch.Tensor) -> LmBatch:
    """Batch rows `sel` (CPU indices) as time-major grids cut to their longest name."""
    lengths = data.lengths[sel]  # (B,)
    dev_sel = sel.to(data.inputs.device)
    width = int(lengths.max())
    return LmBatch(data.inputs[dev_sel, :width].T, data.targets[dev_sel, :width].T,
                   lengths, data.labels[dev_sel])


def batch_of(names: list[str], labels: list[int], vocab: Vocab) -> LmBatch:
    """A batch of these names in this order (for explanations and tests)."""
    return take(encode_lm(names, labels, vocab), torch.arange(len(names)))


def name_hash(name: str) -> int:
    """A signed 64-bit fingerprint of a name (novelty checks without storing the names)."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little",
                          signed=True)


@dataclass
class GenPrepared:
    """A split dataset, its vocabulary, and both sides encoded for the generator."""

    vocab: Vocab
    classes: list[str]
    split: Split
    train: LmData
    test: LmData
    train_names: list[str]
    train_labels: list[str]
    test_names: list[str]
    test_labels: list[str]
    leaked: int  # test rows whose name is also in training (0 for the `names` split)


def distinct_rows(ds: NameDataset, rows: list[int]) -> list[int]:
    """The first row of each (name, label) pair: a repeated row says how often a person is
    in the source, nothing about how names of a label are made, and a net trained on the
    repeats learns those few names by heart (the reference file's Arabic names repeat ~20x)."""
    seen: set[tuple[str, str]] = set()
    out = []
    for i in rows:
        pair = (ds.names[i], ds.labels[i])
        if pair not in seen:
            seen.add(pair)
            out.append(i)
    return out


def prepare_lm(ds: NameDataset, split: str = "names", seed: int = 0,
               device: torch.device | str = "cpu") -> GenPrepared:
    """Split (leak-free by default), keep distinct (name, label) pairs on each side, build
    the vocabulary from training names, encode."""
    sp = make_split(ds, split, seed=seed)
    classes = ds.classes
    label_id = {c: i for i, c in enumerate(classes)}
    vocab = Vocab.build([ds.names[i] for i in sp.train])

    def side(rows: list[int]) -> tuple[list[str], list[str], LmData]:
        rows = distinct_rows(ds, rows)
        names, labels = [ds.names[i] for i in rows], [ds.labels[i] for i in rows]
        return names, labels, encode_lm(names, [label_id[x] for x in labels], vocab, device)

    tr_names, tr_labels, train = side(sp.train)
    te_names, te_labels, test = side(sp.test)
    return GenPrepared(vocab, classes, sp, train, test, tr_names, tr_labels, te_names,
                       te_labels, leaked_rows(ds, sp))


__all__ = ["PAD", "PAD_ID", "GenPrepared", "LmBatch", "LmData", "batch_of", "encode_lm",
           "name_hash", "prepare_lm", "shifted", "take", "token_names"]
