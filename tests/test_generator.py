"""The generator's batching, losses and training: exact tensors, PyTorch as the oracle."""

import math
import threading

import pytest
import torch
import torch.nn.functional as F

from nameclf.data.dataset import load_bytes
from nameclf.data.vocab import Vocab
from nameclf.errors import ConfigError
from nameclf.generate.batches import batch_of, encode_lm, prepare_lm, shifted, take
from nameclf.generate.config import GeneratorConfig, GenTrainConfig, gen_preset
from nameclf.generate.loss import (
    batch_loss,
    loss_report,
    masked_loss,
    packed_loss,
    packed_targets,
    per_sample_loss,
    unmasked_loss,
)
from nameclf.generate.model import NameGenerator
from nameclf.generate.train import DIVERGED, bits_per_char, fit_generator, train_generator
from tests.conftest import tiny_names

NAMES, LABELS = ["Ab", "C", "bAb"], [0, 1, 0]


def tiny_model(cell: str = "gru", vocab: Vocab | None = None, seed: int = 0) -> NameGenerator:
    vocab = vocab or Vocab.build(NAMES)
    torch.manual_seed(seed)
    cfg = GeneratorConfig(cell=cell, vocab_size=len(vocab), n_labels=2, embedding_dim=5,
                          label_dim=3, hidden_size=7)
    return NameGenerator(cfg).double()


def test_sos_and_eos_shift_each_name_by_one_exactly():
    vocab = Vocab.build(NAMES)  # <pad> 0, <unk> 1, A 2, C 3, b 4; <eos> 5, <sos> 6
    assert vocab.tokens == ["<pad>", "<unk>", "A", "C", "b"]
    assert shifted("Ab", vocab) == ([6, 2, 4], [2, 4, 5])
    batch = batch_of(NAMES, LABELS, vocab)
    assert batch.inputs.tolist() == [[6, 6, 6], [2, 3, 4], [4, 0, 2], [0, 0, 4]]  # (T, B)
    assert batch.targets.tolist() == [[2, 3, 4], [4, 5, 2], [5, 0, 4], [0, 0, 5]]
    assert batch.lengths.tolist() == [3, 2, 4]
    assert batch.mask.sum().item() == 9 and batch.mask.numel() == 12
    # the packed targets, time-major in PyTorch's longest-first order (bAb, Ab, C)
    assert packed_targets(batch).tolist() == [4, 2, 3, 2, 4, 5, 4, 5, 5]


def test_packed_equals_masked_equals_per_sample_mean_and_gradients_match():
    grads, losses = [], []
    for mode in ("packed", "padded", "per-sample"):
        model = tiny_model("lstm")
        batch = batch_of(NAMES, LABELS, Vocab.build(NAMES))
        loss = batch_loss(model, batch, mode)
        loss.backward()
        losses.append(loss.detach())
        grads.append([p.grad.clone() for p in model.parameters()])
    # the oracle: each name alone, log_softmax by hand, summed, over all real targets
    model = tiny_model("lstm")
    total, cells = 0.0, 0
    for name, label in zip(NAMES, LABELS):
        x, y = shifted(name, Vocab.build(NAMES))
        logits, _ = model(torch.tensor(x).view(-1, 1), torch.tensor([label]))
        total = total - torch.log_softmax(logits[:, 0], dim=1)[torch.arange(len(y)),
                                                                 torch.tensor(y)].sum()
        cells += len(y)
    oracle = total / cells
    for loss in losses:
        assert torch.allclose(loss, oracle.detach(), atol=1e-12, rtol=0)
    for other in grads[1:]:
        for a, b in zip(grads[0], other):
            assert torch.allclose(a, b, atol=1e-12, rtol=0)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_unmasked_loss_differs_by_what_the_padding_predicts(cell):
    model = tiny_model(cell)
    batch = batch_of(NAMES, LABELS, Vocab.build(NAMES))
    logits, _ = model(batch.inputs, batch.labels)  # (T, B, V)
    logp = torch.log_softmax(logits, dim=-1)
    mask = batch.mask
    pad_nats = -logp[..., 0][~mask].sum()  # -log p(<pad>) at each padded cell
    masked, unmasked = masked_loss(logits, batch.targets), unmasked_loss(logits, batch.targets)
    assert torch.allclose(unmasked * mask.numel(), masked * mask.sum() + pad_nats, atol=1e-12)
    assert not torch.allclose(masked, unmasked)
    report = loss_report(model, batch)
    assert report["pad_share"] == pytest.approx(3 / 12)
    assert report["masked"] == pytest.approx(report["packed"], abs=1e-12)
    assert report["unmasked"] == pytest.approx(float(unmasked.detach()), abs=1e-12)


def test_packed_logits_are_the_padded_logits_of_the_real_cells():
    model = tiny_model("gru")
    batch = batch_of(NAMES, LABELS, Vocab.build(NAMES))
    packed_logits, packed = model.forward_packed(batch.inputs, batch.lengths, batch.labels)
    padded, _ = model(batch.inputs, batch.labels)
    order = packed.sorted_indices.tolist()
    rows = [padded[t, b] for t, size in enumerate(packed.batch_sizes.tolist())
            for b in order[:size]]
    assert torch.allclose(packed_logits, torch.stack(rows), atol=1e-12)
    assert torch.allclose(packed_loss(model, batch), per_sample_loss(model, batch), atol=1e-12)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_every_cell_gives_logits_of_every_output_token(cell):
    model = tiny_model(cell)
    logits, _ = model(torch.zeros(4, 3, dtype=torch.long), torch.tensor([0, 1, 0]))
    assert logits.shape == (4, 3, model.config.n_outputs)


def test_unknown_cell_and_mode_are_refused():
    with pytest.raises(ConfigError, match="rnn, lstm, gru"):
        GeneratorConfig(cell="transformer", vocab_size=5, n_labels=2).validate()
    with pytest.raises(ConfigError, match="batching"):
        batch_loss(tiny_model(), batch_of(NAMES, LABELS, Vocab.build(NAMES)), "naive")


@pytest.fixture(scope="module")
def tiny_prep():
    return prepare_lm(load_bytes(tiny_names(per_label=30), "tiny.txt"), "names", seed=0)


def quick(**changes) -> tuple[GeneratorConfig, GenTrainConfig]:
    model_cfg, train_cfg = gen_preset("gen-tiny")
    fields = {"steps": 60, "epochs": 0.0, "eval_every": 0, **changes}
    return model_cfg, GenTrainConfig(**{**train_cfg.__dict__, **fields})


def test_a_tiny_generator_beats_a_uniform_model(tiny_prep):
    run = fit_generator(tiny_prep, *quick(steps=150))
    uniform = math.log2(len(tiny_prep.vocab) + 1)  # every output token equally likely
    assert run.status == "completed" and run.info["steps"] == 150
    assert run.metrics["test_bits_per_char"] < 0.75 * uniform
    assert set(run.metrics["per_label_bits_per_char"]) == set(tiny_prep.classes)


def test_bits_per_char_counts_characters_and_eos_not_pad(tiny_prep):
    model = NameGenerator(GeneratorConfig(vocab_size=len(tiny_prep.vocab), n_labels=3))
    with torch.no_grad():  # a model that predicts nothing: uniform over its outputs
        for p in model.out.parameters():
            p.zero_()
    test = tiny_prep.test
    assert bits_per_char(model, test) == pytest.approx(math.log2(model.config.n_outputs))
    assert test.n_targets == sum(len(n) + 1 for n in tiny_prep.test_names)


def test_training_is_reproducible_with_a_seed(tiny_prep):
    runs = [fit_generator(tiny_prep, *quick(steps=20, seed=3)) for _ in range(2)]
    for a, b in zip(runs[0].model.parameters(), runs[1].model.parameters()):
        assert torch.equal(a, b)


@pytest.mark.parametrize("mode", ["packed", "padded", "per-sample"])
def test_stop_ends_training_within_one_step(tiny_prep, mode):
    stop = threading.Event()
    model_cfg, train_cfg = quick(steps=1000, batching=mode)
    result = fit_generator(tiny_prep, model_cfg, train_cfg,
                           callback=lambda p: stop.set() if p.step == 2 else None, stop=stop)
    assert result.status == "stopped" and result.info["steps"] == 2


def test_a_tiny_time_budget_still_takes_one_step(tiny_prep):
    run = fit_generator(tiny_prep, *quick(steps=10_000, time_budget=1e-9))
    assert run.status == "time budget reached" and run.info["steps"] == 1


def test_divergence_keeps_the_last_sane_weights(tiny_prep):
    model_cfg, train_cfg = quick(steps=200, optimizer="sgd", lr=100.0, clip_grad=0.0)
    run = fit_generator(tiny_prep, model_cfg, train_cfg)
    assert run.status == DIVERGED
    assert all(torch.isfinite(p).all() for p in run.model.parameters())


def test_per_sample_training_matches_packed_step_for_step(tiny_prep):
    runs = []
    for mode in ("packed", "per-sample"):
        model_cfg, train_cfg = quick(steps=3, batching=mode, optimizer="sgd", lr=0.1)
        torch.manual_seed(0)
        model = NameGenerator(GeneratorConfig(**{**model_cfg.__dict__,
                                                 "vocab_size": len(tiny_prep.vocab),
                                                 "n_labels": 3})).double()
        train_generator(model, tiny_prep.train, train_cfg)
        runs.append(model)
    for a, b in zip(runs[0].parameters(), runs[1].parameters()):
        assert torch.allclose(a, b, atol=1e-10)


def test_encode_lm_then_take_gives_time_major_batches():
    vocab = Vocab.build(NAMES)
    data = encode_lm(NAMES, LABELS, vocab)
    batch = take(data, torch.tensor([1, 0]))
    assert batch.inputs.tolist() == [[6, 6], [3, 2], [0, 4]]
    assert batch.targets.tolist() == [[3, 2], [5, 4], [0, 5]]
    assert F.cross_entropy(torch.zeros(1, 3), torch.tensor([0])).item() == pytest.approx(
        math.log(3))


def test_the_generator_trains_and_tests_on_distinct_name_label_pairs():
    raw = b"Ab, X\nAb, X\nAb, X\nCd, X\nEf, Y\nGh, Y\nIj, Y\nKl, X\n"
    prep = prepare_lm(load_bytes(raw, "dups.txt"), "names", seed=0)
    pairs = list(zip(prep.train_names + prep.test_names, prep.train_labels + prep.test_labels))
    assert len(pairs) == len(set(pairs)) == 6  # the three Ab rows count once


def test_a_time_budget_moves_the_schedule_along_with_the_clock():
    from nameclf.generate.train import schedule_step

    assert schedule_step(10, 1000, 5.0, 0.0) == 10  # no budget: the step
    assert schedule_step(10, 1000, 30.0, 60.0) == 500  # half the budget: half the schedule
    assert schedule_step(900, 1000, 30.0, 60.0) == 900  # never back
    assert schedule_step(10, 1000, 90.0, 60.0) == 1000


def test_the_walkthrough_data_comes_from_the_real_tensors():
    from nameclf.lab.targets import explain_targets

    vocab = Vocab.build(NAMES)
    model = tiny_model("gru").float()
    data = explain_targets(NAMES, ["x", "y", "x"], ["x", "y"], vocab, model)
    assert data["inputs"][1] == ["<sos>", "C", "<pad>", "<pad>"]
    assert data["targets"][1] == ["C", "<eos>", "<pad>", "<pad>"]
    assert data["mask"][1] == [True, True, False, False]
    assert data["cells"] == 12 and data["real_cells"] == 9 and data["pad_share"] == 0.25
    assert data["packed"] == pytest.approx(data["masked"], abs=1e-6)
    assert data["packed_targets"] == ["b", "A", "C", "A", "b", "<eos>", "b", "<eos>", "<eos>"]
    assert data["batch_sizes"] == [3, 3, 2, 1]
    teacher = data["forcing"]["teacher"]
    assert [r["input"] for r in teacher] == ["<sos>", "A", "b"]
    assert [r["target"] for r in teacher] == ["A", "b", "<eos>"]
    assert 1 <= len(data["forcing"]["free"]) <= 25
    with pytest.raises(ConfigError, match="at least one name"):
        explain_targets([], [], ["x"], vocab, model)
