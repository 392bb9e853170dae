"""Each pitfall's measurement: the bug really changes the result, and the fix matches
PyTorch's own reference, on a small model trained on names whose last two letters decide."""

import copy

import pytest
import torch
import torch.nn.functional as F

from nameclf.batching.encoding import encode_batch
from nameclf.classify.model import NameClassifier
from nameclf.errors import ConfigError
from nameclf.generate.batches import batch_of
from nameclf.lab import pitfalls as pf
from nameclf.lab.pitfall_cards import CARDS, EFFECTS, TEMPTING, feedback
from nameclf.lab.targets import untrained
from tests.helpers import small_model
from tests.last_two import last_two_dataset, last_two_run


@pytest.fixture(scope="module")
def run():
    torch.manual_seed(0)
    return last_two_run()


@pytest.fixture(scope="module")
def batch(run):
    ds = last_two_dataset(seed=1)  # other names than the training ones, same rule
    names = ds.names[:120]
    return pf.LabBatch(run.model, run.vocab, names,
                       [run.classes.index(x) for x in ds.labels[:120]], run.classes)


def reference_top1(model: NameClassifier, b: pf.LabBatch) -> float:
    """Top-1 through the model's own forward (the app's predictions)."""
    idx, lengths = encode_batch(b.names, b.vocab)
    with torch.no_grad():
        return float((model(idx, lengths).argmax(1) == b.y).float().mean())


def test_every_card_has_a_measurement_and_a_source():
    assert len(CARDS) >= 8
    for card in CARDS:
        assert callable(getattr(pf, card.key)), card.key
        assert card.sources and all(url.startswith("https://") for _, url in card.sources)
        assert card.wrong != card.right


def test_the_model_learned_the_rule(run, batch):
    assert reference_top1(batch.model, batch) > 0.95


def test_output_last_loses_answers_and_the_fix_is_the_models_own(batch):
    m = pf.output_last(batch)
    assert m.extra["fix"] == pytest.approx(reference_top1(batch.model, batch))
    assert m.extra["bug"] < m.extra["fix"] - 0.2  # the pads wash out the last two letters
    assert m.extra["per_sample_diff"] < 1e-5  # packed == one name at a time


def test_pad_steps_move_the_state_through_the_biases_alone(batch):
    m = pf.pad_inert(batch)
    assert m.extra["moved"] > 0.01 and m.extra["mean"] > 0.01
    no_bias = copy.deepcopy(batch.model)
    with torch.no_grad():
        for name, p in no_bias.rnn.named_parameters():
            if name.startswith("bias"):
                p.zero_()
    zeroed = pf.LabBatch(no_bias, batch.vocab, batch.names, batch.labels, batch.classes)
    assert pf.pad_inert(zeroed).extra["moved"] == 0.0  # zero input, zero bias, zero state


def test_backward_end_reads_one_letter_and_the_fix_is_h_n(batch):
    m = pf.backward_end(batch)
    assert m.extra["gap"] > 0.01 and m.extra["fix_vs_h_n"] < 1e-6
    assert "random weights" in m.extra["model"]


def test_backward_end_of_a_bidirectional_model_matches_its_features():
    model = small_model(8, 3, bidirectional=True, hidden_size=6).eval()
    from nameclf.data.vocab import Vocab

    vocab = Vocab(tuple("abcdef"))
    names = ["abc", "f", "deadbe", "cab"]
    b = pf.LabBatch(model, vocab, names, [0, 1, 2, 0], ["x", "y", "z"])
    m = pf.backward_end(b)
    assert m.extra["model"] == "your model" and m.extra["fix_vs_h_n"] < 1e-6
    idx, lengths = encode_batch(names, vocab)
    with torch.no_grad():  # the model's own hand-written packed kernel, both directions
        features = model.features(idx, lengths, "packed")
    assert m.extra["fix"] == pytest.approx(pf.top1(model, features, b.y))
    assert m.extra["gap"] > 1e-3


def test_batch_first_h_n_gives_every_name_the_last_names_answer(batch):
    m = pf.batch_first_h_n(batch)
    idx, lengths = encode_batch(batch.names, batch.vocab)
    with torch.no_grad():
        pred = batch.model(idx, lengths).argmax(1)
    assert m.extra["fix"] == pytest.approx(reference_top1(batch.model, batch))
    assert m.extra["bug"] == pytest.approx(float((batch.y == pred[-1]).float().mean()))
    assert m.extra["bug"] < m.extra["fix"]


def test_batch_first_h_n_of_a_bidirectional_model_raises_the_real_shape_error():
    from nameclf.data.vocab import Vocab

    model = small_model(5, 2, bidirectional=True).eval()
    b = pf.LabBatch(model, Vocab(tuple("abc")), ["ab", "c", "cab"], [0, 1, 0], ["x", "y"])
    m = pf.batch_first_h_n(b)
    assert m.extra["bug"] is None and "shapes cannot be multiplied" in m.error


def test_sorting_by_hand_without_unsorting(batch):
    m = pf.unsorted(batch)
    assert m.extra["fix_vs_reference"] < 1e-5
    assert m.extra["fix"] == pytest.approx(reference_top1(batch.model, batch))
    assert m.extra["bug"] < 0.5


def test_batch_sizes_are_not_lengths(batch):
    m = pf.batch_sizes_as_lengths(batch)
    assert m.extra["off"] > 0 and m.extra["bug"] < m.extra["fix"]
    lengths = torch.tensor([len(n) for n in batch.names])
    sizes = [int((lengths > t).sum()) for t in range(int(lengths.max()))]  # batch_sizes
    assert m.rows[0]["with the bug"] == str(sizes[:6])
    longest = int(lengths.max())  # past the grid a length would raise: read to its end
    assert m.extra["read_as"] == [min(s, longest) for s in sizes]


def test_a_letter_sharing_the_pad_index_vanishes(batch):
    m = pf.shared_pad_index(batch)
    assert m.extra["gap"] > 1e-3  # the states change
    assert m.extra["fix"] == pytest.approx(reference_top1(batch.model, batch))


def test_masked_mean_against_a_hand_computed_loss(run):
    gen = untrained(run.vocab, run.classes)
    names, labels = ["abcd", "ef", "gahbde", "a"], [0, 1, 2, 3]
    m = pf.masked_mean(gen, run.vocab, names, labels)
    b = batch_of(names, labels, run.vocab)
    with torch.no_grad():
        logits, _ = gen(b.inputs, b.labels)  # (T, B, V)
        cells = F.cross_entropy(logits.reshape(-1, logits.size(-1)), b.targets.reshape(-1),
                                reduction="none").view_as(b.targets)
    mask = b.mask.float()
    assert m.extra["bug"] == pytest.approx(float((cells * mask).mean()), rel=1e-5)
    assert m.extra["fix"] == pytest.approx(float((cells * mask).sum() / mask.sum()), rel=1e-5)
    assert m.extra["reference"] == pytest.approx(m.extra["fix"], rel=1e-5)  # one at a time
    assert m.extra["packed"] == pytest.approx(m.extra["fix"], rel=1e-5)
    assert m.extra["bug"] < m.extra["fix"]


def test_lengths_off_the_cpu_raise_pytorchs_own_message(batch):
    m = pf.lengths_on_device(batch)
    assert "'lengths' argument should be a 1D CPU int64 tensor" in m.error
    assert m.extra["where"] in m.error or m.extra["where"] == "cuda"


def test_total_length(batch):
    m = pf.total_length(batch, width=12)
    assert m.extra == {"short": max(map(len, batch.names)), "full": 12}
    assert "must match" in m.error


def test_packing_speed_races_two_runs_of_the_same_lstm(batch):
    m = pf.packing_speed(batch, repeats=1)
    assert m.extra["same"] < 1e-5  # padded, read at each last character == packed
    assert m.extra["padded_s"] > 0 and m.extra["packed_s"] > 0
    real = sum(map(len, batch.names))
    assert m.extra["waste"] == pytest.approx(1 - real / (max(map(len, batch.names))
                                                         * len(batch.names)))


def test_a_batch_needs_two_labelled_names(run):
    with pytest.raises(ConfigError, match="at least 2 names"):
        pf.LabBatch(run.model, run.vocab, ["abc"], [0], run.classes)
    with pytest.raises(ConfigError, match="empty name"):
        pf.LabBatch(run.model, run.vocab, ["abc", ""], [0, 1], run.classes)


def test_what_each_bug_did_is_read_from_its_measurement(batch, run):
    assert pf.output_last(batch).effect == "answers"  # answers changed on this batch
    assert pf.unsorted(batch).effect == "answers"
    assert pf.lengths_on_device(batch).effect == "error"
    assert pf.total_length(batch).effect == "error"
    assert pf.packing_speed(batch, repeats=1).effect == "speed"
    gen = untrained(run.vocab, run.classes)
    assert pf.masked_mean(gen, run.vocab, ["abc", "de"], [0, 1]).effect == "numbers"
    silent = pf.shared_pad_index(batch)  # this model's answers may survive: said as measured
    assert silent.effect == ("answers" if silent.extra["changed"] else "numbers")


def test_every_wrong_guess_is_told_why_it_tempts():
    for effect in EFFECTS:
        for guess in EFFECTS:
            right, said = feedback(guess, effect)
            assert right == (guess == effect)
            if not right:  # the real effect, then why the guess was tempting
                assert said.startswith(f"Not quite: {EFFECTS[effect].lower()}. ")
                assert said.endswith(TEMPTING.get((guess, effect)) or TEMPTING[guess])


def test_a_batch_is_sampled_from_the_names_whose_label_the_model_knows(run):
    names, labels = ["abc", "bcd", "", "cde", "def"], ["LL", "Klingon", "LL", "LH", "HH"]
    b = pf.sample_batch(run.model, run.vocab, run.classes, names, labels, n=10)
    assert sorted(b.names) == ["abc", "cde", "def"]  # no unknown label, no empty name
    assert [run.classes[i] for i in b.labels] == [labels[names.index(x)] for x in b.names]
    with pytest.raises(ConfigError, match="fewer than 2 test names have a label this model"):
        pf.sample_batch(run.model, run.vocab, run.classes, ["abc", "bcd"], ["LL", "X"])
