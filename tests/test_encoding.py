"""Names to tensors, checked on tiny inputs against hand-written answers and PyTorch."""

import pytest
import torch
import torch.nn.functional as F
from helpers import encoded
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence

from nameclf.batching.batches import take
from nameclf.batching.encoding import (
    encode_batch,
    explain,
    one_hot,
    one_hot_table,
    pack,
    pack_sorted,
    padding_waste,
    sort_by_length,
)
from nameclf.data.vocab import Vocab

# Vocab.build(["Shyam", "Ram"]) sorts R S a h m y into indices 2..7
R, S, a, h, m, y = range(2, 8)
SHYAM_RAM = torch.tensor([[S, R], [h, a], [y, m], [a, 0], [m, 0]])  # (T, B)


def test_encode_batch_pads_time_major():
    idx, lengths = encode_batch(["Shyam", "Ram"], Vocab.build(["Shyam", "Ram"]))
    assert idx.shape == (5, 2) and idx.dtype == torch.long
    assert torch.equal(idx, SHYAM_RAM)
    assert lengths.tolist() == [5, 3]


def test_encode_batch_marks_unseen_characters_unknown():
    idx, _ = encode_batch(["Rax"], Vocab.build(["Shyam", "Ram"]))
    assert idx[:, 0].tolist() == [R, a, 1]


def test_one_hot_is_exact_with_zero_rows_at_pads():
    x = one_hot(SHYAM_RAM, 8)
    assert x.shape == (5, 2, 8)
    expected = torch.zeros(5, 2, 8)
    for t, b, i in [(0, 0, S), (1, 0, h), (2, 0, y), (3, 0, a), (4, 0, m),
                    (0, 1, R), (1, 1, a), (2, 1, m)]:
        expected[t, b, i] = 1.0
    assert torch.equal(x, expected)
    assert torch.equal(x[3:, 1], torch.zeros(2, 8))


def test_one_hot_matches_torch_except_pad():
    idx = torch.randint(0, 6, (7, 4), generator=torch.Generator().manual_seed(0))
    oracle = F.one_hot(idx, 6).float()
    oracle[..., 0] = 0.0  # <pad> reads as no input at all
    assert torch.equal(one_hot(idx, 6), oracle)
    assert torch.equal(one_hot_table(3), torch.tensor([[0.0, 0, 0], [0, 1, 0], [0, 0, 1]]))


def test_pack_batch_sizes_and_data():
    packed = pack(SHYAM_RAM, torch.tensor([5, 3]))
    assert packed.batch_sizes.tolist() == [2, 2, 2, 1, 1]
    assert packed.data.tolist() == [S, R, h, a, y, m, a, m]


def test_sort_by_length_is_stable_and_invertible():
    sorted_indices, unsorted_indices = sort_by_length(torch.tensor([3, 5, 3, 5, 1]))
    assert sorted_indices.tolist() == [1, 3, 0, 2, 4]
    assert unsorted_indices.tolist() == [2, 0, 3, 1, 4]
    assert torch.equal(sorted_indices[unsorted_indices], torch.arange(5))


def test_pack_sorted_matches_pytorch_and_unsorts():
    names = ["Ram", "Shyam", "Li"]
    idx, lengths = encode_batch(names, Vocab.build(names))
    packed, unsorted_indices = pack_sorted(idx, lengths)
    oracle = pack_padded_sequence(idx, lengths, enforce_sorted=False)
    assert torch.equal(packed.data, oracle.data)
    assert torch.equal(packed.batch_sizes, oracle.batch_sizes)
    assert packed.batch_sizes.tolist() == [3, 3, 2, 1, 1]
    in_sorted_order = ["Shyam", "Ram", "Li"]
    assert [in_sorted_order[i] for i in unsorted_indices.tolist()] == names


def test_pack_sorted_unsort_restores_rnn_states():
    names = ["Ram", "Shyam", "Li", "Jo"]
    vocab = Vocab.build(names)
    idx, lengths = encode_batch(names, vocab)
    torch.manual_seed(0)
    rnn = nn.GRU(len(vocab), 4)
    x = one_hot(idx, len(vocab))
    packed, unsorted_indices = pack_sorted(x, lengths)
    _, h_sorted = rnn(packed)
    _, h_auto = rnn(pack(x, lengths))  # PyTorch unsorts h_n itself
    assert torch.allclose(h_sorted[:, unsorted_indices], h_auto, atol=1e-6)


def test_explain_shyam_ram():
    e = explain(["Shyam", "Ram"])
    assert e["vocab"] == ["<pad>", "<unk>", "R", "S", "a", "h", "m", "y"]
    assert e["lengths"] == [5, 3]
    assert e["indices"] == [[S, h, y, a, m], [R, a, m]]
    assert e["padded"] == [["S", "h", "y", "a", "m"], ["R", "a", "m", "<pad>", "<pad>"]]
    assert e["padded_indices"] == SHYAM_RAM.tolist()
    assert e["packed"] == ["S", "R", "h", "a", "y", "m", "a", "m"]
    assert e["batch_sizes"] == [2, 2, 2, 1, 1]
    assert e["sorted_names"] == ["Shyam", "Ram"]
    assert (e["real_cells"], e["padded_cells"], e["pad_cells"]) == (8, 10, 2)
    assert e["wasted_fraction"] == pytest.approx(0.2)


def test_explain_unsorted_batch():
    e = explain(["Ram", "Shyam", "Li"])
    assert e["sorted_names"] == ["Shyam", "Ram", "Li"]
    assert e["sorted_indices"] == [1, 0, 2]
    assert e["unsorted_indices"] == [1, 0, 2]
    assert e["packed"] == ["S", "R", "L", "h", "a", "i", "y", "m", "a", "m"]
    assert e["batch_sizes"] == [3, 3, 2, 1, 1]


def test_explain_is_consistent_with_itself_on_ties():
    names = ["ab", "cd", "ef", "gh", "ij", "kl", "mn", "op", "qr", "st", "uvw", "x"] * 3
    e = explain(names)
    assert e["sorted_names"] == [names[i] for i in e["sorted_indices"]]
    first_column = [name[0] for name in e["sorted_names"]]
    assert e["packed"][: len(names)] == first_column


def test_explain_with_a_given_vocab_shows_unknowns():
    e = explain(["Rax"], Vocab.build(["Ram"]))
    assert e["padded"] == [["R", "a", "<unk>"]]


def test_padding_waste():
    # batches [5, 3] and [4, 1]: 13 real cells out of 10 + 8 padded
    assert padding_waste([5, 3, 4, 1], 2) == pytest.approx(1 - 13 / 18)
    assert padding_waste([5, 3, 4, 1], 1) == 0.0
    assert padding_waste([4, 4, 4], 3) == 0.0
    assert padding_waste([], 4) == 0.0


def test_encoded_batches_match_encode_batch():
    names = ["Shyam", "Ram", "Li"]
    enc, vocab = encoded(names, [0, 1, 0])
    idx, lengths, labels = take(enc, torch.tensor([1, 2]))
    expected_idx, expected_lengths = encode_batch(["Ram", "Li"], vocab)
    assert torch.equal(idx, expected_idx)  # trimmed to the longest name in the batch
    assert torch.equal(lengths, expected_lengths)
    assert labels.tolist() == [1, 0]
