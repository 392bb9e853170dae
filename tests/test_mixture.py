"""A recurrent model with the n-gram baseline mixed in: exact maths, training, saving, the CLI."""

import json
import math
import threading
import time
from dataclasses import replace

import pytest
import torch
from helpers import (
    lines_text,
    rewritten,
    silent_children,
    synthetic_dataset,
    synthetic_rows,
)

from nameclf.classify.checkpoint import from_bytes, load, to_bytes
from nameclf.classify.config import ModelConfig, TrainConfig
from nameclf.classify.evaluate import evaluate, log_probs
from nameclf.classify.mixture import Mixture, mix_in, ngram_part
from nameclf.classify.model import NameClassifier
from nameclf.classify.ngram import NgramConfig, fit_ngram, uniform_model
from nameclf.classify.pipeline import fit, predict, prepare
from nameclf.classify.train import History, TrainResult
from nameclf.cli import main
from nameclf.errors import CheckpointError, ConfigError

GRU = dict(cell="gru", embedding_dim=4, hidden_size=8)
SHORT = TrainConfig(steps=8, batch_size=16, eval_every=0, seed=3)


@pytest.fixture(scope="module")
def prep():
    return prepare(synthetic_dataset(), "names", seed=0)


@pytest.fixture(scope="module")
def mixed(prep):
    return fit(prep, ModelConfig(**GRU, ngram_weight=0.3), SHORT, info={"ascii_fold": True})


def test_the_mixture_is_the_weighted_mean_of_both_models_probabilities(prep, mixed):
    model = mixed.model
    assert isinstance(model, Mixture) and mixed.model_config.kind == "gru+ngram"
    idx, lengths = prep.test.idx.T, prep.test.lengths
    got = model(idx, lengths).exp()  # (B, C)
    expected = 0.7 * model.recurrent(idx, lengths).exp() + 0.3 * model.ngram(idx, lengths).exp()
    assert torch.allclose(got, expected, atol=1e-6)
    assert torch.allclose(got.sum(1), torch.ones(len(got)), atol=1e-6)
    assert model.n_params() == model.recurrent.n_params() + model.ngram.n_params()


def test_each_part_is_what_it_would_be_alone(prep, mixed):
    alone = fit(prep, ModelConfig(**GRU), SHORT)  # same seed, no mixing
    state, mixed_state = alone.model.state_dict(), mixed.model.recurrent.state_dict()
    assert all(torch.equal(state[k], mixed_state[k]) for k in state)
    ngram, _ = fit_ngram(prep.train, prep.vocab, ngram_part(mixed.model_config), SHORT)
    assert torch.equal(ngram.coef, mixed.model.ngram.coef)
    assert evaluate(mixed.model, prep.test, prep.classes).summary().items() <= mixed.metrics.items()
    assert mixed.info["parts_top1"] == {
        "gru": evaluate(alone.model, prep.test, prep.classes).top1,
        "ngram": evaluate(ngram, prep.test, prep.classes).top1}
    assert mixed.history["step"] == alone.history["step"]  # the curves are the GRU's
    assert "mix_note" not in mixed.info and mixed.status == "completed"


def test_the_training_seconds_of_a_mixture_include_the_ngram_fit(prep, monkeypatch):
    """Behaviour, not a stopwatch: the reported seconds are the recurrent training's plus
    the n-gram fit's, whatever either took (issue 14, item 8)."""
    import nameclf.classify.mixture as mixture

    real_fit = mixture.fit_ngram

    def fit_taking_7_s(*args, **kwargs):
        model, result = real_fit(*args, **kwargs)
        return model, replace(result, seconds=7.0)

    monkeypatch.setattr(mixture, "fit_ngram", fit_taking_7_s)
    model = NameClassifier(replace(ModelConfig(**GRU, ngram_weight=0.3),
                                   vocab_size=len(prep.vocab), n_classes=len(prep.classes)))
    trained = TrainResult("completed", 8, 2.5, 100.0, History())
    mixed_model, result, note = mix_in(model, trained, prep.train, prep.vocab, SHORT,
                                       time.perf_counter())
    assert isinstance(mixed_model, Mixture) and note == ""
    assert result.seconds == 2.5 + 7.0 and result.steps == 8


@pytest.mark.parametrize("weight", [-0.1, 1.0, 1.5, math.nan])
def test_a_weight_outside_zero_to_one_is_refused(prep, weight):
    with pytest.raises(ConfigError, match="ngram_weight must be in"):
        fit(prep, ModelConfig(**GRU, ngram_weight=weight), SHORT)


def test_the_ngram_baseline_cannot_mix_in_itself(prep, mixed):
    with pytest.raises(ConfigError, match="cannot mix in itself"):
        fit(prep, ModelConfig(cell="ngram", ngram_weight=0.3), SHORT)
    recurrent = mixed.model.recurrent
    with pytest.raises(ConfigError, match="between 0 and 1"):
        Mixture(NameClassifier(replace(recurrent.config, ngram_weight=0.0)), mixed.model.ngram)
    more_labels = ModelConfig(cell="ngram", vocab_size=len(prep.vocab),
                              n_classes=len(prep.classes) + 1)
    with pytest.raises(ConfigError, match="same characters and labels"):
        Mixture(recurrent, uniform_model(more_labels, prep.vocab, NgramConfig()))


def test_stop_during_training_keeps_the_recurrent_model_alone(prep):
    stop = threading.Event()
    run = fit(prep, ModelConfig(**GRU, ngram_weight=0.3), replace(SHORT, steps=10_000),
              callback=lambda p: stop.set() if p.step == 2 else None, stop=stop)
    assert isinstance(run.model, NameClassifier) and run.status == "stopped"
    assert run.model_config.ngram_weight == 0.0 and run.model_config.kind == "gru"
    assert run.info["mix_note"] == "n-gram model not mixed in: training stopped"
    assert "parts_top1" not in run.info


def test_stop_during_the_ngram_fit_keeps_the_recurrent_model_alone(prep, monkeypatch):
    stop = threading.Event()
    # the n-gram fit never answers; Stop comes 0.3 s after it started, the GRU trained by then
    children = silent_children(monkeypatch, lambda: threading.Timer(0.3, stop.set).start())
    run = fit(prep, ModelConfig(**GRU, ngram_weight=0.3), SHORT, stop=stop)
    assert children and all(c.poll() is not None for c in children)  # the child was ended
    assert isinstance(run.model, NameClassifier) and run.status == "stopped"
    assert run.info["steps"] == SHORT.steps  # the GRU finished first
    assert run.info["mix_note"] == "n-gram model not mixed in: its fit was stopped"


def test_no_time_left_for_the_ngram_fit_keeps_the_recurrent_model_alone(prep):
    model = NameClassifier(ModelConfig(**GRU, ngram_weight=0.3, vocab_size=len(prep.vocab),
                                       n_classes=len(prep.classes)))
    done = TrainResult("completed", 8, 1.0, 100.0, History())
    cfg = replace(SHORT, time_budget=5.0)
    kept, result, note = mix_in(model, done, prep.train, prep.vocab, cfg,
                                started=time.perf_counter() - 6.0)  # the budget is spent
    assert kept is model and kept.config.ngram_weight == 0.0
    assert result.status == "time budget reached" and "no time left" in note


def test_the_time_budget_ending_the_ngram_fit_keeps_the_recurrent_model_alone(prep,
                                                                             monkeypatch):
    children = silent_children(monkeypatch)  # the n-gram fit never answers by itself
    model = NameClassifier(ModelConfig(**GRU, ngram_weight=0.3, vocab_size=len(prep.vocab),
                                       n_classes=len(prep.classes)))
    done = TrainResult("completed", 8, 1.0, 100.0, History())
    cfg = replace(SHORT, time_budget=0.5)
    kept, result, note = mix_in(model, done, prep.train, prep.vocab, cfg,
                                started=time.perf_counter(), stop=threading.Event())
    assert children and all(c.poll() is not None for c in children)  # the child was ended
    assert kept is model and kept.config.ngram_weight == 0.0
    assert result.status == "time budget reached" and result.seconds > done.seconds + 0.4
    assert note == "n-gram model not mixed in: its fit ran out of time"


def test_a_mixture_checkpoint_round_trips(mixed, tmp_path):
    raw = to_bytes(mixed)
    loaded = from_bytes(raw)
    assert isinstance(loaded.model, Mixture) and loaded.model_config == mixed.model_config
    state, loaded_state = mixed.model.state_dict(), loaded.model.state_dict()
    assert state.keys() == loaded_state.keys()
    assert {k.split(".")[0] for k in state} == {"recurrent", "ngram"}
    assert all(torch.equal(state[k], loaded_state[k]) for k in state)
    names = ["Kqxz", "Lomno", "Rust", "🙂", ""]
    for a, b in zip(predict(mixed, names), predict(loaded, names), strict=True):
        assert a.top == b.top and a.note == b.note


def drop_recurrent_cell(state, meta):
    for key in [k for k in state if k.startswith("recurrent.rnn")]:
        del state[key]


TAMPERING = {
    "drop ngram": lambda state, meta: state.pop("ngram.coef"),
    "drop recurrent": drop_recurrent_cell,
    "stray tensor": lambda state, meta: state.update({"extra.x": torch.zeros(1)}),
    "no metadata": lambda state, meta: meta.pop("ngram"),
}


@pytest.mark.parametrize("how", list(TAMPERING))
def test_a_tampered_mixture_checkpoint_is_refused(mixed, how):
    with pytest.raises(CheckpointError):
        from_bytes(rewritten(to_bytes(mixed), TAMPERING[how]))


def test_a_checkpoint_from_before_mixtures_still_loads(prep):
    run = fit(prep, ModelConfig(**GRU), SHORT)
    older = rewritten(to_bytes(run), lambda state, meta: meta["model_config"].pop("ngram_weight"))
    loaded = from_bytes(older)  # what an older nameclf wrote: no ngram_weight at all
    assert isinstance(loaded.model, NameClassifier) and loaded.model_config == run.model_config


def test_log_probs_of_a_mixture_match_its_forward(prep, mixed):
    expected = mixed.model(prep.test.idx.T, prep.test.lengths)
    assert torch.allclose(log_probs(mixed.model, prep.test), expected, atol=1e-6)


def test_cli_trains_saves_and_predicts_with_a_mixture(tmp_path, capsys):
    data = tmp_path / "names.txt"
    data.write_text(lines_text(synthetic_rows()), encoding="utf-8")
    out = tmp_path / "run"
    assert main(["train", "--data", str(data), "--model", "gru", "--hidden", "8", "--steps",
                 "5", "--ngram-weight", "0.4", "--out", str(out), "--quiet"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["model"] == "gru+ngram" and summary["status"] == "completed"
    run = load(out / "model.safetensors")
    assert isinstance(run.model, Mixture) and run.model_config.ngram_weight == 0.4
    record = json.loads((out / "metrics.json").read_text())
    assert set(record["info"]["parts_top1"]) == {"gru", "ngram"}
    assert main(["predict", "--checkpoint", str(out / "model.safetensors"), "Kqxz"]) == 0
    assert "Kqxz" in capsys.readouterr().out


def test_cli_best_preset_with_the_ngram_model_drops_the_mix(tmp_path, capsys):
    data = tmp_path / "names.txt"
    data.write_text(lines_text(synthetic_rows()), encoding="utf-8")
    assert main(["train", "--data", str(data), "--preset", "best", "--model", "ngram",
                 "--out", str(tmp_path / "run"), "--quiet"]) == 0
    assert json.loads(capsys.readouterr().out)["model"] == "ngram"


@pytest.mark.parametrize("flags, message", [
    (["--model", "ngram", "--ngram-weight", "0.3"], "cannot mix in itself"),
    (["--ngram-weight", "1.5"], "ngram_weight must be in [0, 1)"),
    (["--ngram-weight", "nan"], "ngram_weight must be in [0, 1)"),
])
def test_cli_refuses_a_bad_weight_in_one_line(tmp_path, capsys, flags, message):
    data = tmp_path / "names.txt"
    data.write_text(lines_text(synthetic_rows()), encoding="utf-8")
    code = main(["train", "--data", str(data), "--steps", "2", *flags,
                 "--out", str(tmp_path / "run"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1
    assert not (tmp_path / "run").exists()
