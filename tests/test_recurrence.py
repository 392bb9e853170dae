"""The hand-written packed recurrences against PyTorch's own RNN, LSTM and GRU as the oracle."""

import itertools
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F
from helpers import small_model, synthetic_encoded
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from nameclf.batching.encoding import encode_batch
from nameclf.classify.config import ModelConfig, TrainConfig
from nameclf.classify.model import NameClassifier
from nameclf.classify.recurrence import (
    last_rows,
    offsets,
    packed_final_states,
    previous,
    reverse_padded,
    tanh_,
)
from nameclf.classify.train import train
from nameclf.data.vocab import Vocab
from nameclf.errors import ConfigError

MODULES = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def random_batch(seed: int, vocab: int = 12, batch: int = 7, longest: int = 6):
    """Padded indices (T, B) with lengths that include 1, repeats and the longest twice."""
    gen = torch.Generator().manual_seed(seed)
    lengths = torch.randint(1, longest + 1, (batch,), generator=gen)
    lengths[:3] = torch.tensor([1, longest, longest])
    idx = torch.randint(2, vocab, (longest, batch), generator=gen)
    idx[torch.arange(longest)[:, None] >= lengths[None, :]] = 0  # (T, B), 0 = <pad>
    return idx, lengths


def test_step_offsets_and_last_cells_of_shyam_and_ram():
    # Shyam (5) and Ram (3) pack as batch_sizes [2, 2, 2, 1, 1]: rows 0-1, 2-3, 4-5, 6, 7
    assert offsets([2, 2, 2, 1, 1]) == [0, 2, 4, 6, 7]
    assert last_rows([2, 2, 2, 1, 1]).tolist() == [7, 5]  # Shyam's 'm', Ram's 'm'
    assert last_rows([3, 1]).tolist() == [3, 1, 2]


def test_previous_states_are_the_same_names_one_step_earlier():
    states = torch.arange(1.0, 9.0)[:, None]  # (N=8, H=1), batch_sizes [2, 2, 2, 1, 1]
    assert previous(states, [2, 2, 2, 1, 1]).flatten().tolist() == [0, 0, 1, 2, 3, 4, 5, 7]


def test_reverse_padded_reverses_only_the_real_characters():
    vocab = Vocab.build(["Shyam", "Ram"])
    idx, lengths = encode_batch(["Shyam", "Ram"], vocab)
    rev, _ = encode_batch(["mayhS", "maR"], vocab)
    assert torch.equal(reverse_padded(idx, lengths), rev)


def test_tanh_through_sigmoid_matches_tanh():
    x = torch.linspace(-20, 20, 4001, dtype=torch.float64)
    assert torch.allclose(tanh_(x.clone()), torch.tanh(x), atol=1e-15)


@pytest.mark.parametrize("cell", list(MODULES))
def test_final_states_and_gradients_equal_pytorch_packed(cell):
    idx, lengths = random_batch(0)
    torch.manual_seed(1)
    rnn = MODULES[cell](12, 5).double()
    packed = pack_padded_sequence(idx, lengths, enforce_sorted=False)
    table = torch.eye(12, dtype=torch.float64)
    _, h_n = rnn(packed._replace(data=table[packed.data]))
    want = (h_n[0] if isinstance(h_n, tuple) else h_n)[0]  # (B, H), batch order
    weights = torch.randn_like(want)
    (want * weights).sum().backward()
    want_grads = [p.grad.clone() for p in rnn.parameters()]
    rnn.zero_grad()

    bias = rnn.bias_ih_l0 if cell == "gru" else rnn.bias_ih_l0 + rnn.bias_hh_l0
    x = F.embedding(packed.data, rnn.weight_ih_l0.t() + bias)
    got = packed_final_states(cell, x, rnn.weight_hh_l0, rnn.bias_hh_l0,
                              packed.batch_sizes.tolist())[packed.unsorted_indices]
    (got * weights).sum().backward()
    assert torch.allclose(got, want, atol=1e-12)
    for (name, p), g in zip(rnn.named_parameters(), want_grads):
        assert torch.allclose(p.grad, g, atol=1e-12), name


@pytest.mark.parametrize("cell, embedding_dim, bidirectional",
                         list(itertools.product(MODULES, (0, 4), (False, True))))
def test_model_gives_pytorchs_outputs_and_gradients(cell, embedding_dim, bidirectional):
    idx, lengths = random_batch(2)
    y = torch.tensor([0, 1, 2, 0, 1, 2, 0])
    torch.manual_seed(3)
    model = NameClassifier(ModelConfig(cell=cell, vocab_size=12, n_classes=3, hidden_size=6,
                                       embedding_dim=embedding_dim,
                                       bidirectional=bidirectional)).double()
    results = {}
    for kernel in ("torch", "auto"):
        model.kernel = kernel
        model.zero_grad()
        logp = model(idx, lengths)
        F.nll_loss(logp, y).backward()
        results[kernel] = logp.detach(), [p.grad.clone() for p in model.parameters()]
    assert model.hand_written(idx)
    assert torch.allclose(results["auto"][0], results["torch"][0], atol=1e-12)
    for a, b in zip(results["auto"][1], results["torch"][1]):
        assert torch.allclose(a, b, atol=1e-12)


def test_training_with_either_kernel_gives_the_same_weights():
    train_set, vocab, classes = synthetic_encoded()
    cfg = TrainConfig(optimizer="sgd", lr=0.1, batch_size=16, steps=20, eval_every=0)
    weights = {}
    for kernel in ("torch", "auto"):
        torch.manual_seed(0)
        model = small_model(len(vocab), len(classes), cell="lstm", hidden_size=16)
        result = train(model, train_set, replace(cfg, kernel=kernel))
        assert result.status == "completed"
        weights[kernel] = [p.detach().clone() for p in model.parameters()]
    for a, b in zip(weights["torch"], weights["auto"]):
        assert torch.allclose(a, b, atol=1e-5)


def test_stacked_models_and_unknown_kernels():
    idx, lengths = random_batch(4)
    model = small_model(12, 3, cell="gru", num_layers=2)
    assert not model.hand_written(idx)  # stacked layers run in nn.GRU
    model.kernel = "fast"
    with pytest.raises(ConfigError, match="auto, torch"):
        model(idx, lengths)
    with pytest.raises(ConfigError, match="kernel must be one of auto, torch"):
        TrainConfig(kernel="fast").validate()
    with pytest.raises(ValueError, match="rnn, lstm, gru"):
        packed_final_states("tcn", torch.zeros(1, 1), torch.zeros(1, 1), torch.zeros(1), [1])
