"""Every model variant builds and runs; packed batching is checked against one name at a time."""

import itertools

import pytest
import torch
import torch.nn.functional as F
from helpers import encoded, small_model
from torch import nn

from nameclf.batching.encoding import encode_batch
from nameclf.classify.config import ModelConfig
from nameclf.classify.model import CELLS, NameClassifier
from nameclf.classify.presets import preset
from nameclf.data.vocab import Vocab
from nameclf.errors import ConfigError

NAMES = ["Shyam", "Ram", "Li", "Abernathy", "Ng"]
VOCAB = Vocab.build(NAMES)
IDX, LENGTHS = encode_batch(NAMES, VOCAB)  # (T, B), (B,)


@pytest.mark.parametrize("cell, embedding_dim, bidirectional, num_layers",
                         list(itertools.product(CELLS, (0, 4), (False, True), (1, 2))))
def test_every_variant_outputs_log_probs(cell, embedding_dim, bidirectional, num_layers):
    model = small_model(len(VOCAB), 3, cell=cell, embedding_dim=embedding_dim,
                        bidirectional=bidirectional, num_layers=num_layers, hidden_size=5)
    model.eval()
    logp = model(IDX, LENGTHS)
    assert logp.shape == (len(NAMES), 3)
    assert torch.allclose(logp.exp().sum(dim=1), torch.ones(len(NAMES)), atol=1e-6)
    assert (logp <= 0).all()
    features = model.features(IDX, LENGTHS)
    assert features.shape == (len(NAMES), 5 * (2 if bidirectional else 1))


def test_unknown_cell_names_the_allowed_cells():
    with pytest.raises(ConfigError, match="rnn, lstm, gru"):
        NameClassifier(ModelConfig(cell="transformer", vocab_size=5, n_classes=2))


@pytest.mark.parametrize("fields", [
    dict(vocab_size=2), dict(n_classes=1), dict(hidden_size=0), dict(num_layers=0),
    dict(dropout=1.0), dict(embedding_dim=-1), dict(vocab_size=6000),
])
def test_bad_model_config_is_a_config_error(fields):
    with pytest.raises(ConfigError):
        ModelConfig(**(dict(vocab_size=10, n_classes=2) | fields)).validate()


def test_large_vocab_needs_an_embedding():
    ModelConfig(vocab_size=6000, n_classes=2, embedding_dim=16).validate()
    with pytest.raises(ConfigError, match="embedding"):
        ModelConfig(vocab_size=6000, n_classes=2, embedding_dim=0).validate()


def test_unknown_batching_is_a_config_error():
    with pytest.raises(ConfigError, match="packed"):
        small_model(len(VOCAB), 2)(IDX, LENGTHS, "sorted")


def test_padded_bidirectional_is_refused():
    model = small_model(len(VOCAB), 2, bidirectional=True)
    with pytest.raises(ConfigError, match="one-directional"):
        model(IDX, LENGTHS, "padded")


def test_seed_rnn_is_the_tutorials_architecture():
    model_cfg, _, split = preset("seed-rnn")
    model_cfg.vocab_size, model_cfg.n_classes = len(VOCAB), 18
    model = NameClassifier(model_cfg)
    assert split == "rows"
    assert type(model.rnn) is nn.RNN and model.embed is None
    assert (model.rnn.input_size, model.rnn.hidden_size) == (len(VOCAB), 128)
    assert model.rnn.num_layers == 1 and not model.rnn.bidirectional
    assert model.rnn.nonlinearity == "tanh"
    assert isinstance(model.h2o, nn.Linear)
    assert (model.h2o.in_features, model.h2o.out_features) == (128, 18)
    # forward is exactly log_softmax(h2o(final hidden state of nn.RNN on one-hot rows))
    model.eval()
    name = "Shyam"
    x = F.one_hot(torch.tensor(VOCAB.encode(name)), len(VOCAB)).float()[:, None]  # (T, 1, V)
    _, h = model.rnn(x)
    expected = F.log_softmax(model.h2o(h[-1]), dim=1)
    idx, lengths = encode_batch([name], VOCAB)
    assert torch.allclose(model(idx, lengths), expected, atol=1e-6)


def test_rnn_features_match_a_hand_written_recurrence():
    model = small_model(len(VOCAB), 2, cell="rnn", hidden_size=4)
    rnn = model.rnn
    for b, name in enumerate(NAMES):
        h = torch.zeros(4)
        for i in VOCAB.encode(name):
            x = torch.zeros(len(VOCAB))
            x[i] = 1.0
            h = torch.tanh(rnn.weight_ih_l0 @ x + rnn.bias_ih_l0 + rnn.weight_hh_l0 @ h
                           + rnn.bias_hh_l0)
        assert torch.allclose(model.features(IDX, LENGTHS)[b], h, atol=1e-6)


ORACLE_CASES = [(cell, layers, bidir, emb) for cell in CELLS for layers in (1, 2)
                for bidir in (False, True) for emb in (0, 3)]


@pytest.mark.parametrize("cell, num_layers, bidirectional, embedding_dim", ORACLE_CASES)
def test_packed_features_equal_one_name_at_a_time(cell, num_layers, bidirectional,
                                                  embedding_dim):
    model = small_model(len(VOCAB), 3, cell=cell, num_layers=num_layers,
                        bidirectional=bidirectional, embedding_dim=embedding_dim, hidden_size=6)
    model.eval()
    with torch.no_grad():
        batch = model.features(IDX, LENGTHS, "packed")
        for b in range(len(NAMES)):
            n = int(LENGTHS[b])
            alone = model.features(IDX[:n, b : b + 1], LENGTHS[b : b + 1], "packed")  # (1, F)
            assert torch.allclose(batch[b], alone[0], atol=1e-5), NAMES[b]
            # and the unpadded name through the raw cell: final states, layer by layer
            _, h_n = model.rnn(model.inputs(IDX[:n, b : b + 1]))
            h_n = h_n[0] if isinstance(h_n, tuple) else h_n
            last = h_n[-2:] if bidirectional else h_n[-1:]
            assert torch.allclose(batch[b], last.reshape(-1), atol=1e-5), NAMES[b]


@pytest.mark.parametrize("cell, num_layers", list(itertools.product(CELLS, (1, 2))))
def test_padded_gather_equals_packed_one_directional(cell, num_layers):
    model = small_model(len(VOCAB), 3, cell=cell, num_layers=num_layers, hidden_size=6)
    with torch.no_grad():
        assert torch.allclose(model.features(IDX, LENGTHS, "padded"),
                              model.features(IDX, LENGTHS, "packed"), atol=1e-5)
        assert torch.allclose(model(IDX, LENGTHS, "padded"), model(IDX, LENGTHS), atol=1e-5)


@pytest.mark.parametrize("cell, embedding_dim", list(itertools.product(CELLS, (0, 3))))
def test_naive_reads_past_the_padding(cell, embedding_dim):
    model = small_model(len(VOCAB), 3, cell=cell, hidden_size=6, embedding_dim=embedding_dim)
    with torch.no_grad():
        naive = model.features(IDX, LENGTHS, "naive")
        packed = model.features(IDX, LENGTHS, "packed")
    longest = LENGTHS.eq(LENGTHS.max())
    assert torch.allclose(naive[longest], packed[longest], atol=1e-5)  # nothing to read past
    for b in torch.nonzero(~longest).flatten().tolist():
        assert not torch.allclose(naive[b], packed[b], atol=1e-4), NAMES[b]


def test_embedding_pad_row_is_zero():
    model = small_model(len(VOCAB), 2, embedding_dim=4)
    assert torch.equal(model.inputs(torch.zeros(1, 1, dtype=torch.long)), torch.zeros(1, 1, 4))


def test_one_name_batch_with_unknown_characters():
    enc, vocab = encoded(["ab", "ba"], [0, 1])
    model = small_model(len(vocab), 2)
    idx, lengths = encode_batch(["a?b!"], vocab)
    assert model(idx, lengths).shape == (1, 2)


def test_dropout_only_in_training():
    model = small_model(len(VOCAB), 3, dropout=0.5, num_layers=2)
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(IDX, LENGTHS), model(IDX, LENGTHS))
    assert model.rnn.dropout == 0.5


def test_n_params_counts_every_weight():
    model = small_model(len(VOCAB), 3, cell="rnn", hidden_size=4)
    v, h, c = len(VOCAB), 4, 3
    assert model.n_params() == (h * v + h * h + 2 * h) + (c * h + c)
