"""The training loop: batching modes agree, runs are reproducible, and every way a run ends."""

import copy
import math
import random
import threading
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F
from helpers import encoded, small_model, synthetic_dataset, synthetic_encoded

from nameclf.batching.batches import sample_batches, take
from nameclf.classify.config import ModelConfig, TrainConfig, total_steps
from nameclf.classify.pipeline import fit, prepare
from nameclf.classify.train import DIVERGED, class_weights, lr_at, nll, train
from nameclf.errors import ConfigError


def noise_encoded(n: int = 300, n_classes: int = 8, seed: int = 0):
    """Random names with random labels: nothing to learn, so a high learning rate blows up."""
    rng = random.Random(seed)
    names = ["".join(rng.choice("abcdefghijklmnop") for _ in range(rng.randint(3, 10)))
             for _ in range(n)]
    return encoded(names, [rng.randrange(n_classes) for _ in names])


def params(model) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


# --- the three batching modes train the same model ----------------------------------------

MODE_CASES = [
    dict(cell="gru"), dict(cell="lstm"), dict(cell="rnn", num_layers=2),
    dict(cell="gru", embedding_dim=4),
]


@pytest.mark.parametrize("fields", MODE_CASES)
@pytest.mark.parametrize("extras", [{}, dict(class_weighting=True, label_smoothing=0.1)])
def test_one_step_is_the_same_in_every_batching_mode(fields, extras):
    enc, vocab, classes = synthetic_encoded(per_label=6)
    base = small_model(len(vocab), len(classes), **fields)
    before = params(base)
    after = {}
    for mode in ("per-sample", "padded", "packed"):
        model = copy.deepcopy(base)
        cfg = TrainConfig(optimizer="sgd", lr=0.5, momentum=0.0, batch_size=len(enc), steps=1,
                          sampling="epoch", batching=mode, **extras)
        assert train(model, enc, cfg).steps == 1
        after[mode] = params(model)
    assert any(not torch.equal(a, b) for a, b in zip(after["packed"], before, strict=True))
    for mode in ("per-sample", "padded"):
        for a, b in zip(after[mode], after["packed"], strict=True):
            assert torch.allclose(a, b, atol=1e-6), mode


def test_per_sample_trains_a_bidirectional_model_like_packed():
    enc, vocab, classes = synthetic_encoded(per_label=6)
    base = small_model(len(vocab), len(classes), cell="lstm", bidirectional=True)
    runs = []
    for mode in ("per-sample", "packed"):
        model = copy.deepcopy(base)
        cfg = TrainConfig(optimizer="sgd", lr=0.5, momentum=0.0, batch_size=len(enc), steps=2,
                          sampling="epoch", batching=mode)
        assert train(model, enc, cfg).status == "completed"
        runs.append(params(model))
    for a, b in zip(*runs, strict=True):
        assert torch.allclose(a, b, atol=1e-6)


def test_first_loss_is_the_weighted_nll_of_the_batch():
    enc, vocab, classes = synthetic_encoded(per_label=6)
    model = small_model(len(vocab), len(classes))
    idx, lengths, y = take(enc, torch.arange(len(enc)))
    weight = class_weights(enc.labels, len(classes))
    with torch.no_grad():
        expected = F.nll_loss(model(idx, lengths), y, weight=weight)
    cfg = TrainConfig(batch_size=len(enc), steps=1, sampling="epoch", class_weighting=True)
    assert train(model, enc, cfg).history.loss[0] == pytest.approx(float(expected), rel=1e-5)


def test_nll_matches_pytorch():
    logits = torch.randn(6, 4, generator=torch.Generator().manual_seed(0))
    logp, y = F.log_softmax(logits, dim=1), torch.tensor([0, 1, 2, 3, 3, 1])
    smoothed = F.cross_entropy(logits, y, label_smoothing=0.2, reduction="none")
    assert torch.allclose(nll(logp, y, None, 0.2), smoothed, atol=1e-6)
    w = torch.tensor([0.5, 2.0, 1.0, 3.0])
    weighted = nll(logp, y, w, 0.0).sum() / w[y].sum()
    assert torch.allclose(weighted, F.nll_loss(logp, y, weight=w), atol=1e-6)


def test_class_weights_balance_the_classes():
    labels = torch.tensor([0, 0, 0, 1])
    weight = class_weights(labels, 2)
    assert torch.allclose(weight, torch.tensor([2 / 3, 2.0]))
    assert float(weight[labels].mean()) == pytest.approx(1.0)
    totals = torch.zeros(2).index_add_(0, labels, weight[labels])
    assert torch.allclose(totals, torch.tensor([2.0, 2.0]))


# --- reproducibility and how runs end -----------------------------------------------------

def test_same_seed_same_run():
    enc, vocab, classes = synthetic_encoded(per_label=10)
    runs = []
    for seed in (3, 3, 4):
        model = small_model(len(vocab), len(classes))
        cfg = TrainConfig(steps=15, batch_size=8, sampling="random", seed=seed)
        runs.append((train(model, enc, cfg).history.loss, params(model)))
    assert runs[0][0] == runs[1][0]
    assert all(torch.equal(a, b) for a, b in zip(runs[0][1], runs[1][1], strict=True))
    assert runs[0][0] != runs[2][0]


def test_stop_event_from_the_callback():
    enc, vocab, classes = synthetic_encoded(per_label=10)
    stop, steps_seen = threading.Event(), []

    def callback(p):
        steps_seen.append(p.step)
        if p.step == 3:
            stop.set()

    result = train(small_model(len(vocab), len(classes)), enc,
                   TrainConfig(steps=100, batch_size=4), callback=callback, stop=stop)
    assert result.status == "stopped"
    assert result.steps == 3 and steps_seen == [1, 2, 3] and len(result.history.loss) == 3


def test_stop_interrupts_a_per_sample_batch():
    enc, vocab, classes = synthetic_encoded(per_label=10)
    stop = threading.Event()
    stop.set()
    model = small_model(len(vocab), len(classes))
    before = params(model)
    result = train(model, enc, TrainConfig(steps=5, batching="per-sample"), stop=stop)
    assert (result.status, result.steps) == ("stopped", 0)
    assert all(torch.equal(a, b) for a, b in zip(before, params(model), strict=True))


def test_time_budget_ends_a_per_sample_batch_midway(monkeypatch):
    import sys
    import types

    ticks = iter(range(10**6))  # a clock that moves one second each time it is read
    monkeypatch.setattr(sys.modules["nameclf.classify.train"], "time",
                        types.SimpleNamespace(perf_counter=lambda: float(next(ticks))))
    enc, vocab, classes = synthetic_encoded(per_label=10)
    model = small_model(len(vocab), len(classes))
    before = params(model)
    cfg = TrainConfig(steps=10, batch_size=32, sampling="random", batching="per-sample",
                      time_budget=20.0)
    result = train(model, enc, cfg)
    # the first batch always completes, reading the clock a few times; from the second on the
    # clock is read before each name, and the budget runs out after about 15 of its 32 names
    assert (result.status, result.steps) == ("time budget reached", 1)
    assert not all(torch.equal(a, b) for a, b in zip(before, params(model), strict=True))


def test_time_budget_ends_a_run():
    enc, vocab, classes = synthetic_encoded(per_label=10)
    cfg = TrainConfig(steps=10_000_000, batch_size=4, time_budget=0.3)
    result = train(small_model(len(vocab), len(classes)), enc, cfg)
    assert result.status == "time budget reached"
    assert 0 < result.steps < 10_000_000
    assert result.seconds < 3.0


@pytest.mark.parametrize("cell", ["rnn", "gru"])
def test_huge_learning_rate_diverges_and_keeps_sane_weights(cell):
    enc, vocab = noise_encoded()
    model = small_model(len(vocab), 8, cell=cell, hidden_size=16)
    snapshots = [params(model)]
    cfg = TrainConfig(optimizer="sgd", lr=10.0, steps=200, batch_size=32, sampling="random")
    result = train(model, enc, cfg, callback=lambda p: snapshots.append(params(model)))
    assert result.status == DIVERGED
    assert result.steps < 200
    final = params(model)
    assert all(torch.isfinite(p).all() for p in final)
    assert any(all(torch.equal(a, b) for a, b in zip(final, snap, strict=True))
               for snap in snapshots[:-1])


def test_nan_loss_restores_the_last_good_weights():
    enc, vocab, classes = synthetic_encoded(per_label=10)
    model = small_model(len(vocab), len(classes))
    snapshots = [params(model)]

    def callback(p):
        snapshots.append(params(model))
        if p.step == 2:
            with torch.no_grad():
                model.h2o.bias.fill_(float("nan"))

    result = train(model, enc, TrainConfig(steps=10, batch_size=8), callback=callback)
    assert (result.status, result.steps) == (DIVERGED, 2)
    final = params(model)
    assert all(torch.isfinite(p).all() for p in final)
    # the weights that gave step 2 its finite loss, i.e. those after step 1
    assert all(torch.equal(a, b) for a, b in zip(final, snapshots[1], strict=True))


def test_a_sane_learning_rate_learns_the_synthetic_data():
    prep = prepare(synthetic_dataset(per_label=40), seed=0)
    model_cfg = ModelConfig(cell="gru", embedding_dim=8, hidden_size=32)
    train_cfg = TrainConfig(optimizer="adamw", lr=0.02, batch_size=16, epochs=8,
                            eval_every=0, seed=0)
    run = fit(prep, model_cfg, train_cfg)
    assert run.status == "completed"
    assert run.metrics["top1"] > 0.85  # chance is 0.25
    assert run.history["loss"][-1] < run.history["loss"][0]


def test_evaluation_steps_and_progress():
    enc, vocab, classes = synthetic_encoded(per_label=10)
    heard = []
    cfg = TrainConfig(steps=12, batch_size=8, eval_every=5, schedule="cosine", warmup=2, lr=0.01)
    result = train(small_model(len(vocab), len(classes)), enc, cfg, test_set=enc,
                   callback=heard.append)
    assert result.history.eval_step == [5, 10, 12]
    assert [p.step for p in heard] == list(range(1, 13))
    assert all(p.total_steps == 12 for p in heard)
    assert [p.step for p in heard if p.top1 is not None] == [5, 10, 12]
    assert all(0.0 <= p.top1 <= p.top2 <= 1.0 for p in heard if p.top1 is not None)
    assert [p.lr for p in heard] == pytest.approx([lr_at(s, 12, 0.01, "cosine", 2)
                                                   for s in range(12)])
    assert heard[-1].eta == 0.0


# --- schedule, batches and settings -------------------------------------------------------

def test_lr_schedule_values():
    assert [lr_at(s, 100, 1.0, "constant", warmup=4) for s in range(6)] == [
        0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    assert lr_at(4, 104, 1.0, "cosine", 4) == pytest.approx(1.0)
    assert lr_at(54, 104, 1.0, "cosine", 4) == pytest.approx(0.5)
    assert lr_at(104, 104, 1.0, "cosine", 4) == pytest.approx(0.0, abs=1e-12)
    assert lr_at(200, 104, 1.0, "cosine", 4) == pytest.approx(0.0, abs=1e-12)
    assert [lr_at(s, 10, 2.0, "linear") for s in (0, 5, 10, 12)] == pytest.approx(
        [2.0, 1.0, 0.0, 0.0])
    assert lr_at(0, 10, 2.0, "cosine", 2) == pytest.approx(1.0)  # warmup applies to every schedule


def test_random_sampling_draws_with_replacement():
    gen = torch.Generator().manual_seed(0)
    batches = sample_batches(torch.ones(10, dtype=torch.long), 50, "random", gen)
    for _ in range(3):
        batch = next(batches)
        assert batch.shape == (50,)
        assert int(batch.min()) >= 0 and int(batch.max()) < 10


def test_epoch_sampling_covers_each_index_once_per_epoch():
    gen = torch.Generator().manual_seed(0)
    batches = sample_batches(torch.ones(10, dtype=torch.long), 3, "epoch", gen)
    for _ in range(2):
        epoch = [next(batches) for _ in range(4)]
        assert [len(b) for b in epoch] == [3, 3, 3, 1]
        assert sorted(torch.cat(epoch).tolist()) == list(range(10))


def test_epoch_batch_larger_than_the_data_is_the_whole_data():
    gen = torch.Generator().manual_seed(0)
    batch = next(sample_batches(torch.ones(7, dtype=torch.long), 100, "epoch", gen))
    assert sorted(batch.tolist()) == list(range(7))


def test_bucket_sampling_groups_similar_lengths():
    lengths = torch.randint(1, 31, (512,), generator=torch.Generator().manual_seed(1))

    def epoch(sampling):
        batches = sample_batches(lengths, 8, sampling, torch.Generator().manual_seed(0))
        return [next(batches) for _ in range(64)]

    bucket, shuffled = epoch("bucket"), epoch("epoch")
    assert sorted(torch.cat(bucket).tolist()) == list(range(512))

    def spread(batches):
        return sum(int(lengths[b].max() - lengths[b].min()) for b in batches) / len(batches)

    assert spread(bucket) < 0.25 * spread(shuffled)


def test_total_steps():
    assert total_steps(100, 8, 7, 3.0) == 7
    assert total_steps(100, 8, 0, 2.0) == 25
    assert total_steps(10, 64, 0, 0.1) == 1
    with pytest.raises(ConfigError):
        total_steps(100, 8, 0, 0.0)


def test_epochs_set_the_number_of_steps():
    enc, vocab, classes = synthetic_encoded(per_label=5)  # 20 names
    cfg = TrainConfig(steps=0, epochs=2, batch_size=8, sampling="epoch")
    assert train(small_model(len(vocab), len(classes)), enc, cfg).steps == 5


@pytest.mark.parametrize("sampling", ["epoch", "bucket", "random"])
def test_batch_larger_than_the_dataset(sampling):
    enc, vocab, classes = synthetic_encoded(per_label=5)
    cfg = TrainConfig(steps=3, batch_size=1000, sampling=sampling)
    assert train(small_model(len(vocab), len(classes)), enc, cfg).status == "completed"


@pytest.mark.parametrize("fields", [
    dict(optimizer="rmsprop"), dict(lr=0.0), dict(lr=-1.0), dict(lr=math.nan), dict(lr=1e6),
    dict(batch_size=0), dict(steps=0, epochs=0), dict(steps=-1), dict(sampling="shuffle"),
    dict(batching="sorted"), dict(schedule="step"), dict(momentum=1.0),
    dict(label_smoothing=1.0), dict(clip_grad=-1.0), dict(time_budget=-1.0),
])
def test_bad_train_config_is_a_config_error(fields):
    """Settings are checked where they are made, so train() never sees a bad TrainConfig."""
    with pytest.raises(ConfigError):
        TrainConfig(**fields)
    with pytest.raises(ConfigError):  # the page and the CLI change a preset's copy this way
        replace(TrainConfig(), **fields)


def test_padded_training_of_a_bidirectional_model_is_refused():
    enc, vocab, classes = synthetic_encoded(per_label=3)
    model = small_model(len(vocab), len(classes), bidirectional=True)
    with pytest.raises(ConfigError, match="packed"):
        train(model, enc, TrainConfig(steps=1, batching="padded"))
