"""The batching race on tiny data."""

import threading

import pytest
from helpers import synthetic_encoded

from nameclf.classify.config import ModelConfig
from nameclf.lab.race import CONTESTANTS, RaceConfig, contestants, race, subset
from nameclf.lab.speedups import ratios


@pytest.fixture(scope="module")
def data():
    enc, vocab, classes = synthetic_encoded(per_label=10)
    model_cfg = ModelConfig(cell="gru", vocab_size=len(vocab), n_classes=len(classes),
                            hidden_size=8)
    return enc, model_cfg


FAST = RaceConfig(n_names=16, batch_size=8, seconds=0.05, rounds=4)


def test_race_times_every_mode_and_pytorchs_cell_on_the_cpu(data):
    enc, model_cfg = data
    heard = []
    speeds = race(model_cfg, enc, FAST, report=heard.append)
    assert list(speeds) == ["packed", "padded", "per-sample", "packed-torch"]
    assert all(s > 0 for s in speeds.values())
    # the contestants take turns, in the same order each round; the last turn's speed is all
    assert [h["mode"] for h in heard] == list(speeds) * FAST.rounds
    assert [(h["done"], h["of"]) for h in heard] == [(i, 16) for i in range(1, 17)]
    assert [h["names_per_second"] for h in heard[-4:]] == list(speeds.values())
    assert CONTESTANTS["packed-torch"] == ("packed", "torch")


def test_contestants_leave_out_what_would_not_differ(data):
    _, model_cfg = data
    fields = model_cfg.to_dict()
    assert contestants(model_cfg, "cpu") == ("packed", "padded", "per-sample", "packed-torch")
    stacked = ModelConfig(**(fields | dict(num_layers=2)))  # stacked: PyTorch's cell anyway
    assert contestants(stacked, "cpu") == ("packed", "padded", "per-sample")
    assert contestants(model_cfg, "cuda") == ("packed", "padded", "per-sample")  # cuDNN
    bidir = ModelConfig(**(fields | dict(bidirectional=True)))
    assert contestants(bidir, "cpu") == ("packed", "per-sample", "packed-torch")


def test_bidirectional_race_skips_padded(data):
    enc, model_cfg = data
    model_cfg = ModelConfig(**(model_cfg.to_dict() | dict(bidirectional=True)))
    speeds = race(model_cfg, enc, FAST)
    assert set(speeds) == {"per-sample", "packed", "packed-torch"}
    assert all(s > 0 for s in speeds.values())


def test_race_stops_when_asked(data):
    enc, model_cfg = data
    stop = threading.Event()
    stop.set()
    assert race(model_cfg, enc, FAST, stop=stop) == {}


def test_subset_is_the_same_names_for_the_same_seed(data):
    enc, _ = data
    a, b, c = subset(enc, 10, seed=1), subset(enc, 10, seed=1), subset(enc, 10, seed=2)
    assert len(a) == 10
    assert a.idx.tolist() == b.idx.tolist() and a.labels.tolist() == b.labels.tolist()
    assert a.idx.tolist() != c.idx.tolist()
    assert a.idx.shape[1] == int(a.lengths.max())  # trimmed to the longest chosen name
    assert len(subset(enc, 10_000)) == len(enc)


def test_ratios():
    speeds = {"per-sample": 10.0, "padded": 40.0, "packed": 80.0}
    assert ratios(speeds) == pytest.approx({"padded_over_per_sample": 4.0,
                                            "packed_over_per_sample": 8.0,
                                            "packed_over_padded": 2.0})
    assert ratios({"per-sample": 10.0, "packed": 25.0}) == pytest.approx(
        {"packed_over_per_sample": 2.5})
    assert ratios({"padded": 40.0, "packed": 80.0}) == pytest.approx({"packed_over_padded": 2.0})
    assert ratios({}) == {}
    assert ratios({"padded": 0.0, "packed": 5.0}) == {}  # a mode that saw no name: no ratio
    assert ratios({"packed": 30.0, "packed-torch": 20.0}) == pytest.approx(
        {"packed_over_packed_torch": 1.5})
