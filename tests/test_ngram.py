"""The n-gram baseline: same interfaces as the recurrent models, same answers as scikit-learn."""

import json
import threading
from dataclasses import asdict

import numpy as np
import pytest
import torch
from helpers import (
    ALPHABETS,
    cli_ngram_run,
    encoded,
    lines_text,
    silent_children,
    synthetic_dataset,
    synthetic_rows,
)
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from nameclf.classify.checkpoint import from_bytes, load, save, to_bytes
from nameclf.classify.config import ModelConfig, TrainConfig
from nameclf.classify.evaluate import evaluate, log_probs
from nameclf.classify.logistic import fit_sklearn, fit_stoppable
from nameclf.classify.model import NameClassifier
from nameclf.classify.ngram import NgramConfig, NgramModel, char_ngrams, fit_ngram
from nameclf.classify.pipeline import fit, predict, prepare
from nameclf.cli import main
from nameclf.errors import CheckpointError, ConfigError

TRICKY = ["Ab", "A", "van der  Berg", "O'Neil\tX", "Abcdefgh", "Ng Li", "  x  "]


@pytest.fixture(scope="module")
def prep():
    return prepare(synthetic_dataset(), "names", seed=0)


@pytest.fixture(scope="module")
def run(prep):
    return fit(prep, ModelConfig(cell="ngram"), TrainConfig())


def sklearn_probs(names, labels, test_names, cfg: NgramConfig) -> np.ndarray:
    """The same model fitted and applied by scikit-learn alone: the oracle."""
    vec = TfidfVectorizer(analyzer=cfg.analyzer, ngram_range=(cfg.min_n, cfg.max_n),
                          lowercase=cfg.lowercase, sublinear_tf=cfg.sublinear_tf,
                          min_df=cfg.min_df, dtype=np.float32)
    clf = LogisticRegression(C=cfg.C, max_iter=cfg.max_iter).fit(vec.fit_transform(names), labels)
    return clf.predict_proba(vec.transform(test_names))


@pytest.mark.parametrize("analyzer", ["char_wb", "char"])
@pytest.mark.parametrize("lowercase", [True, False])
def test_char_ngrams_match_scikit_learn(analyzer, lowercase):
    for min_n, max_n in [(1, 4), (2, 3)]:
        cfg = NgramConfig(analyzer=analyzer, min_n=min_n, max_n=max_n, lowercase=lowercase)
        sk = TfidfVectorizer(analyzer=analyzer, ngram_range=(min_n, max_n),
                             lowercase=lowercase).build_analyzer()
        for text in TRICKY:
            assert char_ngrams(text, cfg) == sk(text), text


def test_char_wb_marks_word_edges():
    assert char_ngrams("Ab", NgramConfig(max_n=3)) == [" ", "a", "b", " ", " a", "ab", "b ",
                                                      " ab", "ab "]


def test_fit_trains_evaluates_and_predicts_like_a_recurrent_run(prep, run):
    assert isinstance(run.model, NgramModel) and run.model_config.cell == "ngram"
    assert run.status == "completed" and run.metrics["top1"] > 0.9  # one letter gives it away
    again = evaluate(run.model, prep.test, prep.classes)
    assert again.summary() == {k: v for k, v in run.metrics.items()
                               if k not in ("top1_names", "n_names")}
    assert run.metrics["top1_names"] == 1.0 and run.metrics["n_names"] == len(set(prep.test_names))
    assert run.info["train_seconds"] > 0 and run.info["n_params"] == run.model.n_params()
    assert run.history["eval_step"] == run.history["step"] and len(run.history["top1"]) == 1
    preds = predict(run, ["Kqxzk", "Lomno", "", "Kqx€"], k=2)
    assert [p.top[0][0] for p in preds[:2]] == ["Kaz", "Lom"]
    assert preds[2].top == [] and "empty" in preds[2].note
    assert "unseen characters" in preds[3].note and preds[3].top[0][0] == "Kaz"
    assert sum(prob for _, prob in predict(run, "Vwye", k=4)[0].top) == pytest.approx(1, abs=1e-5)


def test_probabilities_equal_scikit_learn(prep, run):
    names = run.model.decode(prep.train.idx.T, prep.train.lengths)
    test_names = run.model.decode(prep.test.idx.T, prep.test.lengths)
    expected = sklearn_probs(names, prep.train.labels.numpy(), test_names, NgramConfig())
    got = run.model(prep.test.idx.T, prep.test.lengths).exp()
    assert torch.allclose(got, torch.from_numpy(expected).float(), atol=1e-5)


def test_one_progress_report_at_the_end(prep):
    reports = []
    fit(prep, ModelConfig(cell="ngram"), TrainConfig(), callback=reports.append)
    assert len(reports) == 1
    p = reports[0]
    assert p.step == p.total_steps and p.eta == 0 and p.top1 is not None


def test_stop_before_start_gives_a_stopped_uniform_run(prep):
    stop = threading.Event()
    stop.set()
    run = fit(prep, ModelConfig(cell="ngram"), TrainConfig(), stop=stop)
    assert run.status == "stopped" and run.info["steps"] == 0
    probs = [prob for _, prob in predict(run, "Kqxz", k=4)[0].top]
    assert probs == pytest.approx([0.25] * 4)
    assert from_bytes(to_bytes(run)).model.coef.shape == (4, 0)


def test_batching_modes_agree_and_unknown_mode_is_refused(prep, run):
    idx, lengths = prep.test.idx.T, prep.test.lengths
    packed = run.model(idx, lengths)
    for mode in ("padded", "naive"):
        assert torch.equal(run.model(idx, lengths, mode), packed)
    with pytest.raises(ConfigError, match="unknown batching"):
        run.model(idx, lengths, "sideways")


def test_checkpoint_round_trip_gives_identical_probabilities(prep, run, tmp_path):
    path = save(run, tmp_path / "model.safetensors")
    loaded = load(path)
    assert isinstance(loaded.model, NgramModel) and loaded.classes == run.classes
    idx, lengths = prep.test.idx.T, prep.test.lengths
    assert torch.equal(loaded.model(idx, lengths), run.model(idx, lengths))
    assert loaded.model.ngrams == run.model.ngrams and loaded.metrics == run.metrics
    assert set(st_load(path.read_bytes())) == {"coef", "intercept", "idf"}


def test_tampered_checkpoints_are_refused(run):
    raw = to_bytes(run)
    header = json.loads(raw[8 : 8 + int.from_bytes(raw[:8], "little")])
    meta = json.loads(header["__metadata__"]["nameclf"])
    state = st_load(raw)
    bad_meta = dict(meta, ngram=dict(meta["ngram"], ngrams=meta["ngram"]["ngrams"][:-1]))
    bad_state = dict(state, coef=state["coef"][:, :-1].contiguous())
    cases = [(state, bad_meta), (bad_state, meta),
             (dict(state, extra=torch.zeros(1)), meta),
             (state, dict(meta, ngram=dict(meta["ngram"], config={"analyzer": 3})))]
    for tensors, metadata in cases:
        with pytest.raises(CheckpointError):
            from_bytes(st_save(tensors, metadata={"nameclf": json.dumps(metadata)}))


def test_two_labels_and_a_label_absent_from_training():
    names = ["kqx", "qxz", "zkq", "xqk", "lmo", "mno", "olm", "nml"]
    enc, vocab = encoded(names, [0, 0, 0, 0, 2, 2, 2, 2])  # label 1 has no training names
    cfg = ModelConfig(cell="ngram", vocab_size=len(vocab), n_classes=3)
    model, result = fit_ngram(enc, vocab, cfg, TrainConfig())
    assert result.status == "completed"
    probs = model(enc.idx.T, enc.lengths).exp()  # (N, 3)
    assert probs[:, 1].max() < 1e-12
    expected = sklearn_probs(names, [0] * 4 + [2] * 4, names, NgramConfig())
    assert torch.allclose(probs[:, [0, 2]], torch.from_numpy(expected).float(), atol=1e-5)


def test_one_label_only_is_a_config_error():
    enc, vocab = encoded(["ab", "ba"], [0, 0])
    cfg = ModelConfig(cell="ngram", vocab_size=len(vocab), n_classes=2)
    with pytest.raises(ConfigError, match="two labels"):
        fit_ngram(enc, vocab, cfg, TrainConfig())


def test_recurrent_model_refuses_ngram_and_configs_know_it():
    ModelConfig(cell="ngram", vocab_size=5, n_classes=2).validate()
    with pytest.raises(ConfigError, match="not a recurrent cell"):
        NameClassifier(ModelConfig(cell="ngram", vocab_size=5, n_classes=2))
    with pytest.raises(ConfigError, match="rnn, lstm, gru, ngram"):
        ModelConfig(cell="svm", vocab_size=5, n_classes=2).validate()
    with pytest.raises(ConfigError, match="min_n"):
        NgramConfig(min_n=3, max_n=2).validate()


def test_lowercase_setting_decides_whether_case_matters():
    enc, vocab = encoded(["Ab", "AB", "ba", "BA"], [0, 1, 0, 1])
    cfg = ModelConfig(cell="ngram", vocab_size=len(vocab), n_classes=2)
    idx, lengths = enc.idx[:2].T, enc.lengths[:2]  # "Ab" and "AB"
    lower, _ = fit_ngram(enc, vocab, cfg, TrainConfig())
    cased, _ = fit_ngram(enc, vocab, cfg, TrainConfig(), ngram_config=NgramConfig(lowercase=False))
    assert torch.allclose(*lower(idx, lengths).exp())  # lowercased, the two read the same
    assert not torch.allclose(*cased(idx, lengths).exp())


def test_cli_trains_predicts_and_evaluates_an_ngram_model(tmp_path, capsys):
    data, out = cli_ngram_run(tmp_path)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    summary = json.loads(lines[0])
    assert summary["model"] == "ngram" and summary["train_seconds"] > 0 and summary["top1"] > 0.9
    assert json.loads((out / "metrics.json").read_text())["summary"] == summary
    ckpt = str(out / "model.safetensors")
    assert main(["predict", "--checkpoint", ckpt, "Kqxz", "Rstu", "--json"]) == 0
    preds = json.loads(capsys.readouterr().out)
    assert [p["top"][0][0] for p in preds] == ["Kaz", "Rus"]
    assert main(["evaluate", "--checkpoint", ckpt, "--data", str(data)]) == 0
    assert json.loads(capsys.readouterr().out)["top1"] == pytest.approx(summary["top1"])
    assert set(ALPHABETS) == set(load(ckpt).classes)


def synthetic_job() -> tuple[list[str], np.ndarray, int, dict]:
    """Names (tricky whitespace and letters included), label ids, label count, settings."""
    ds = synthetic_dataset()
    classes = sorted(set(ds.labels))
    labels = [classes.index(lab) for lab in ds.labels] + [i % 2 for i in range(len(TRICKY))]
    names = ds.names + [*TRICKY[:-1], "Ångström ß\u00a0x"]
    return names, np.array(labels), len(classes), asdict(NgramConfig())


def test_the_fit_in_a_child_process_is_the_fit_in_this_one():
    names, labels, n_classes, settings = synthetic_job()
    here = fit_sklearn(names, labels, n_classes, settings, 0)
    there = fit_stoppable(names, labels, n_classes, settings, 0, stop=threading.Event())
    assert there[0] == here[0]  # the same n-grams, in the same order
    for mine, theirs in zip(here[1:4], there[1:4], strict=True):  # coef, intercept, idf
        np.testing.assert_array_equal(theirs, mine)
    assert there[4:] == here[4:]  # loss, iterations


def test_a_config_error_in_the_child_comes_back_as_a_config_error():
    names, labels, n_classes, settings = synthetic_job()
    with pytest.raises(ConfigError, match="at least two labels"):
        fit_stoppable(names, np.zeros_like(labels), n_classes, settings, 0,
                      stop=threading.Event())


def test_stop_ends_a_fit_that_has_not_answered_and_its_process(monkeypatch):
    children = silent_children(monkeypatch)
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    assert fit_stoppable(*synthetic_job(), 0, stop=stop) is None
    (child,) = children
    assert child.poll() is not None  # ended, not left running


def test_a_time_budget_ends_an_ngram_fit_with_nothing_learned(prep, monkeypatch):
    children = silent_children(monkeypatch)
    run = fit(prep, ModelConfig(cell="ngram"), TrainConfig(time_budget=0.3))
    assert run.status == "time budget reached" and run.info["steps"] == 0
    assert run.learned_nothing
    assert children[0].poll() is not None
    probs = log_probs(run.model, prep.test).exp()
    torch.testing.assert_close(probs, torch.full_like(probs, 1 / len(prep.classes)))


def test_cli_says_in_one_line_when_an_ngram_fit_misses_its_time_budget(tmp_path, capsys,
                                                                      monkeypatch):
    silent_children(monkeypatch)
    data = tmp_path / "names.txt"
    data.write_text(lines_text(synthetic_rows()), encoding="utf-8")
    out = tmp_path / "run"
    assert main(["train", "--data", str(data), "--model", "ngram", "--time-budget", "0.3",
                 "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0].startswith("loaded ")  # the load report, then the one error line
    assert [line for line in err if "error" in line] == [
        "nameclf train: error: the ngram model did not finish within "
        "--time-budget 0.3 s; nothing was saved"]
    assert not (out / "model.safetensors").exists()


def test_names_sharing_no_ngram_are_a_config_error_not_a_crash():
    settings = asdict(NgramConfig(analyzer="char", min_df=2))  # char: no shared edge spaces
    with pytest.raises(ConfigError, match="no character n-gram occurs in 2 or more"):
        fit_sklearn(["Ab", "Cd", "Ef", "Gh"], np.array([0, 1, 0, 1]), 2, settings, 0)
