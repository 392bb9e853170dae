"""A faithful re-implementation of the reference tutorial's training loops, as a baseline.

The tutorial builds each batch's one-hot tensor with Python loops over characters, packs it
with `pack_padded_sequence(enforce_sorted=False)`, and trains `nn.RNN/nn.LSTM(n_letters, 128)`
-> Linear -> LogSoftmax with NLLLoss and SGD(lr=0.15, momentum=0.9) on random batches of 512.
Its per-sample loop feeds one name at a time and steps the optimizer after each.
"""

import string
import time

import numpy as np
import torch
from torch import nn

ALL_LETTERS = string.ascii_letters + " .,;'"
N_LETTERS = len(ALL_LETTERS)


class TutorialNet(nn.Module):
    """The tutorial's RNN_net / LSTM_net."""

    def __init__(self, cell: str, input_size: int, hidden_size: int, output_size: int):
        super().__init__()
        self.hidden_size = hidden_size
        self.rnn_cell = (nn.LSTM if cell == "lstm" else nn.RNN)(input_size, hidden_size)
        self.h2o = nn.Linear(hidden_size, output_size)
        self.softmax = nn.LogSoftmax(dim=1)

    def forward(self, input_):
        out, hidden = self.rnn_cell(input_)
        hidden = hidden[0] if isinstance(hidden, tuple) else hidden
        output = self.h2o(hidden.view(-1, self.hidden_size))
        return self.softmax(output), hidden


def name_rep(name: str) -> torch.Tensor:
    rep = torch.zeros(len(name), 1, N_LETTERS)
    for index, letter in enumerate(name):
        rep[index][0][ALL_LETTERS.find(letter)] = 1
    return rep


def batched_name_rep(names: list[str], max_word_size: int) -> torch.Tensor:
    rep = torch.zeros(max_word_size, len(names), N_LETTERS)
    for name_index, name in enumerate(names):
        for letter_index, letter in enumerate(name):
            rep[letter_index][name_index][ALL_LETTERS.find(letter)] = 1
    return rep


def batched_dataloader(npoints, X_, y_, lang_index, rng):
    names, langs, lengths = [], [], []
    for _ in range(npoints):
        i = rng.randint(len(X_))
        names.append(X_[i])
        langs.append(y_[i])
        lengths.append(len(X_[i]))
    rep = batched_name_rep(names, max(lengths))
    target = torch.tensor([lang_index[lang] for lang in langs], dtype=torch.long)
    packed = nn.utils.rnn.pack_padded_sequence(rep, lengths, enforce_sorted=False)
    return packed, target


def train_batched(cell: str, X, y, languages: list[str], n_batches: int, batch_size: int = 512,
                  seconds: float | None = None, seed: int = 0) -> dict:
    """The tutorial's batched loop; stops after n_batches or `seconds`."""
    torch.manual_seed(seed)
    rng = np.random.RandomState(seed)
    lang_index = {lang: i for i, lang in enumerate(languages)}
    net = TutorialNet(cell, N_LETTERS, 128, len(languages))
    opt = torch.optim.SGD(net.parameters(), lr=0.15, momentum=0.9)
    criterion = nn.NLLLoss()
    start, done = time.perf_counter(), 0
    for _ in range(n_batches):
        opt.zero_grad()
        batch_input, target = batched_dataloader(batch_size, X, y, lang_index, rng)
        output, _ = net(batch_input)
        loss = criterion(output, target)
        loss.backward()
        opt.step()
        done += 1
        if seconds and time.perf_counter() - start > seconds:
            break
    elapsed = time.perf_counter() - start
    return {"net": net, "batches": done, "seconds": elapsed,
            "names_per_second": done * batch_size / elapsed}


def train_per_sample(cell: str, X, y, languages: list[str], n_names: int,
                     seconds: float | None = None, seed: int = 0) -> dict:
    """The tutorial's first loop: one name at a time, an optimizer step after each."""
    torch.manual_seed(seed)
    rng = np.random.RandomState(seed)
    lang_index = {lang: i for i, lang in enumerate(languages)}
    net = TutorialNet(cell, N_LETTERS, 128, len(languages))
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    criterion = nn.NLLLoss()
    start, done = time.perf_counter(), 0
    for _ in range(n_names):
        i = rng.randint(len(X))
        opt.zero_grad()
        output, _ = net(name_rep(X[i]))
        loss = criterion(output, torch.tensor([lang_index[y[i]]]))
        loss.backward()
        opt.step()
        done += 1
        if seconds and time.perf_counter() - start > seconds:
            break
    elapsed = time.perf_counter() - start
    return {"net": net, "names": done, "seconds": elapsed, "names_per_second": done / elapsed}


@torch.no_grad()
def evaluate_full(net: TutorialNet, X, y, languages: list[str]) -> tuple[float, float]:
    """Top-1/top-2 of a tutorial net on every test name (not sampled with replacement)."""
    lang_index = {lang: i for i, lang in enumerate(languages)}
    hits1 = hits2 = 0
    for start in range(0, len(X), 1024):
        names, langs = X[start : start + 1024], y[start : start + 1024]
        lengths = [len(n) for n in names]
        packed = nn.utils.rnn.pack_padded_sequence(batched_name_rep(names, max(lengths)), lengths,
                                                   enforce_sorted=False)
        output, _ = net(packed)
        top = output.topk(2, dim=1).indices
        target = torch.tensor([lang_index[lang] for lang in langs])
        hits1 += int((top[:, 0] == target).sum())
        hits2 += int((top == target[:, None]).any(dim=1).sum())
    return hits1 / len(X), hits2 / len(X)
