"""The generator's n-gram baseline, sampling, checkpoints and command line."""

import json
import math

import pytest
import torch

from nameclf.cli import main
from nameclf.data.dataset import load_bytes
from nameclf.errors import CheckpointError, ConfigError
from nameclf.generate.checkpoint import from_bytes, load, save, to_bytes
from nameclf.generate.ngram import BOS, EOS, UNK, KneserNey, NgramLM, fit_ngram_lm
from nameclf.generate.sampling import SampleConfig, novelty, sample_names
from nameclf.generate.train import fit_generator
from tests.conftest import gen_tiny, tiny_names, train_generator_cli


@pytest.fixture(scope="module")
def prep(lm_prep):
    return lm_prep


@pytest.fixture(scope="module")
def run(prep):
    return fit_generator(prep, *gen_tiny(120), info={"ascii_fold": True})


def test_kneser_ney_distributions_sum_to_one_in_seen_and_unseen_contexts():
    seqs = [list("abca") + [EOS], list("abb") + [EOS], list("ca") + [EOS]]
    types = ["a", "b", "c", UNK, EOS]
    for order in (1, 2, 3, 5):
        lm = KneserNey.from_seqs(seqs, order, len(types))
        for context in [(BOS,) * 4, ("x", "y", "a", "b"), ("z",) * 4, (BOS, BOS, "a", "b")]:
            assert sum(lm.prob(t, context) for t in types) == pytest.approx(1.0, abs=1e-12)
    # a seen continuation is likelier than an unseen one
    lm = KneserNey.from_seqs(seqs, 3, len(types))
    assert lm.prob("b", (BOS, "a")) > lm.prob("c", (BOS, "a"))


def test_label_mixture_sums_to_one_and_beats_uniform(prep):
    lm = fit_ngram_lm(prep.train_names, prep.train_labels)
    assert lm.order in (3, 4, 5) and 0.5 <= lm.weight <= 1.0
    bpc, by_label = lm.bits_per_char(prep.test_names, prep.test_labels)
    assert bpc < 0.75 * math.log2(len(lm.known) + 2) and set(by_label) == set(prep.classes)
    mixed = NgramLM(3, 0.7).fit(["ab", "ba"], ["x", "y"])
    nats, n = mixed.name_nats("ab", "x")
    assert n == 3 and nats > 0
    unknown_label, _ = mixed.name_nats("ab", "z")  # a label it never saw: the global model
    assert unknown_label > 0


def test_sampling_is_reproducible_and_obeys_its_settings(run):
    cfg = SampleConfig("Ski", n=8, temperature=0.8, seed=5)
    first, again = sample_names(run, cfg), sample_names(run, cfg)
    assert first == again and len(first) == 8 and all(first)
    other = sample_names(run, SampleConfig("Ski", n=8, temperature=0.8, seed=6))
    assert other != first
    greedy = sample_names(run, SampleConfig("Son", n=3, temperature=0.0, seed=1))
    assert len(set(greedy)) == 1  # the likeliest path is one path
    short = sample_names(run, SampleConfig("Ez", n=5, prefix="Ta", max_len=4, top_k=3))
    assert all(n.startswith("Ta") and len(n) <= 4 for n in short)
    with pytest.raises(ConfigError, match="unknown label"):
        sample_names(run, SampleConfig("Nope"))
    with pytest.raises(ConfigError, match="never saw"):
        sample_names(run, SampleConfig("Ski", prefix="Q9"))


def test_novelty_counts_names_not_in_training(run, prep):
    assert novelty(prep.train_names[:5], run.train_hashes) == 0.0
    assert novelty(["Zzzzqx", prep.train_names[0]], run.train_hashes) == 0.5


def test_checkpoint_round_trip_gives_the_same_model(run, tmp_path):
    path = save(run, tmp_path / "gen.safetensors")
    back = load(path)
    assert back.classes == run.classes and back.vocab == run.vocab
    assert torch.equal(back.train_hashes, run.train_hashes)
    cfg = SampleConfig("Son", n=4, seed=2)
    assert sample_names(back, cfg) == sample_names(run, cfg)
    assert back.metrics["test_bits_per_char"] == run.metrics["test_bits_per_char"]


def test_foreign_and_tampered_files_are_refused(run, prep):
    raw = bytearray(to_bytes(run))
    raw[-5] ^= 0x01  # one bit of one weight
    with pytest.raises(CheckpointError, match="changed after it was saved"):
        from_bytes(bytes(raw))
    with pytest.raises(CheckpointError):
        from_bytes(b"\x00" * 64)
    from nameclf.classify.checkpoint import to_bytes as classifier_bytes
    from nameclf.classify.config import ModelConfig, TrainConfig
    from nameclf.classify.pipeline import fit, prepare

    ds = load_bytes(tiny_names(per_label=10), "t.txt")
    clf = fit(prepare(ds), ModelConfig(cell="gru", hidden_size=8, embedding_dim=4),
              TrainConfig(steps=1, epochs=0, eval_every=0))
    with pytest.raises(CheckpointError, match="classifier checkpoint"):
        from_bytes(classifier_bytes(clf))


def test_cli_trains_generates_and_races(tmp_path, capsys):
    code, data, out = train_generator_cli(tmp_path, "--steps", "40")
    assert code == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    for key in ("task", "model", "n_train", "n_test", "steps", "train_seconds",
                "names_per_second", "test_bits_per_char", "baseline_bits_per_char"):
        assert key in line
    assert line["task"] == "generate" and line["steps"] == 40
    assert (out / "metrics.json").is_file()
    clf_out = tmp_path / "clf"
    assert main(["train", "--data", str(data), "--steps", "20", "--hidden", "16",
                 "--embedding-dim", "8", "--out", str(clf_out), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["generate", "--checkpoint", str(out / "model.safetensors"), "--label", "Ski",
                 "-n", "6", "--seed", "1", "--classifier", str(clf_out / "model.safetensors"),
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert len(result["names"]) == 6 and 0 <= result["novelty"] <= 1
    assert 0 <= result["agreement"] <= 1 and "classifier_top1" in result
    assert main(["bench", "--task", "generate", "--data", str(data), "--names", "16",
                 "--seconds", "0.2", "--json"]) == 0
    race = json.loads(capsys.readouterr().out)
    assert set(race["names_per_second"]) == {"packed", "padded", "per-sample"}
    assert race["first_batch"]["masked"] == pytest.approx(race["first_batch"]["packed"],
                                                          abs=1e-5)


def test_cli_refuses_classifier_flags_and_wrong_files(tmp_path, capsys):
    data = tmp_path / "tiny.txt"
    data.write_bytes(tiny_names(per_label=10))
    assert main(["train", "--task", "generate", "--data", str(data), "--bidirectional",
                 "--out", str(tmp_path / "x")]) == 2
    assert "does not apply to --task generate" in capsys.readouterr().err
    assert main(["train", "--task", "generate", "--data", str(data), "--preset", "seed-rnn",
                 "--out", str(tmp_path / "x")]) == 2
    assert "unknown generator preset" in capsys.readouterr().err
    bogus = tmp_path / "bogus.safetensors"
    bogus.write_bytes(b"not a checkpoint at all")
    assert main(["generate", "--checkpoint", str(bogus)]) == 2
    assert capsys.readouterr().err.count("\n") == 1
