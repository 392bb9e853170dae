"""Metrics on hand-made predictions (sklearn as an oracle), and predictions for typed names."""

import math

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import synthetic_encoded, untrained_run
from sklearn.metrics import (
    balanced_accuracy_score,
    confusion_matrix,
    f1_score,
    precision_recall_fscore_support,
)

from nameclf.batching.batches import encode_names
from nameclf.classify.evaluate import evaluate, metrics_from, most_confused, topk_hits
from nameclf.classify.pipeline import MAX_NAME_LEN, predict

CLASSES = ["a", "b", "c"]
PROBS = torch.tensor([
    [0.7, 0.2, 0.1],  # true a, predicted a
    [0.2, 0.5, 0.3],  # true a, predicted b; a is only third
    [0.1, 0.6, 0.3],  # true b, predicted b
    [0.3, 0.2, 0.5],  # true c, predicted c
    [0.5, 0.1, 0.4],  # true c, predicted a; c is second
])
Y = torch.tensor([0, 0, 1, 2, 2])


def test_metrics_on_a_hand_made_example():
    m = metrics_from(PROBS.log(), Y, CLASSES)
    assert (m.top1, m.top2, m.top3) == pytest.approx((3 / 5, 4 / 5, 1.0))
    assert m.n == 5
    expected_confusion = pd.DataFrame([[1, 1, 0], [0, 1, 0], [1, 0, 1]],
                                      index=pd.Index(CLASSES, name="true"),
                                      columns=pd.Index(CLASSES, name="predicted"))
    pd.testing.assert_frame_equal(m.confusion, expected_confusion, check_dtype=False)
    assert m.per_class["precision"].tolist() == pytest.approx([1 / 2, 1 / 2, 1.0])
    assert m.per_class["recall"].tolist() == pytest.approx([1 / 2, 1.0, 1 / 2])
    assert m.per_class["f1"].tolist() == pytest.approx([1 / 2, 2 / 3, 2 / 3])
    assert m.per_class["support"].tolist() == [2, 1, 2]
    assert list(m.per_class.index) == CLASSES
    assert m.macro_f1 == pytest.approx(11 / 18)
    assert m.balanced_accuracy == pytest.approx(2 / 3)
    assert m.summary() == {"top1": m.top1, "top2": m.top2, "top3": m.top3,
                           "macro_f1": m.macro_f1, "balanced_accuracy": m.balanced_accuracy,
                           "n": 5}


@pytest.mark.filterwarnings("ignore:y_pred contains classes not in y_true")
@pytest.mark.parametrize("seed", range(6))
def test_metrics_agree_with_sklearn(seed):
    gen = torch.Generator().manual_seed(seed)
    n_classes = 5
    y = torch.randint(0, n_classes - 1 if seed % 2 else n_classes, (40,), generator=gen)
    logp = torch.randn(40, n_classes, generator=gen).log_softmax(dim=1)
    if seed % 3 == 0:  # one class never predicted
        logp[:, 2] = -50.0
    m = metrics_from(logp, y, [f"c{i}" for i in range(n_classes)])
    y_true, y_pred = y.numpy(), logp.argmax(dim=1).numpy()
    assert m.macro_f1 == pytest.approx(f1_score(y_true, y_pred, average="macro",
                                                zero_division=0))
    assert m.balanced_accuracy == pytest.approx(balanced_accuracy_score(y_true, y_pred))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=range(n_classes),
                                                 zero_division=0)
    assert np.allclose(m.per_class["precision"], p)
    assert np.allclose(m.per_class["recall"], r)
    assert np.allclose(m.per_class["f1"], f)
    assert m.per_class["support"].tolist() == s.tolist()
    assert np.array_equal(m.confusion.to_numpy(),
                          confusion_matrix(y_true, y_pred, labels=range(n_classes)))
    assert m.top1 == pytest.approx(float((y_pred == y_true).mean()))


def test_a_class_predicted_but_never_true_counts_against_macro_f1():
    probs = torch.tensor([[0.9, 0.05, 0.05], [0.1, 0.1, 0.8], [0.1, 0.8, 0.1]])
    y = torch.tensor([0, 1, 1])  # "c" is predicted once but never true
    m = metrics_from(probs.log(), y, CLASSES)
    # F1 a = 1, b = 2/3 (precision 1, recall 1/2), c = 0
    assert m.macro_f1 == pytest.approx((1 + 2 / 3 + 0) / 3)
    assert m.balanced_accuracy == pytest.approx((1 + 1 / 2) / 2)  # over true labels only


def test_topk_with_k_beyond_the_classes():
    logp = torch.tensor([[0.0, -1.0], [-1.0, 0.0]])
    assert topk_hits(logp, torch.tensor([1, 1]), (1, 2, 3)) == [0.5, 1.0, 1.0]


def test_most_confused_orders_the_off_diagonal_pairs():
    names = ["x", "y", "z"]
    confusion = pd.DataFrame([[5, 3, 0], [1, 4, 7], [2, 0, 9]],
                             index=pd.Index(names, name="true"),
                             columns=pd.Index(names, name="predicted"))
    top = most_confused(confusion)
    assert list(top.columns) == ["true", "predicted", "count"]
    assert list(top.itertuples(index=False, name=None)) == [
        ("y", "z", 7), ("x", "y", 3), ("z", "x", 2), ("y", "x", 1)]
    assert len(most_confused(confusion, n=2)) == 2


def test_evaluate_scores_every_name_in_eval_mode():
    enc, vocab, classes = synthetic_encoded(per_label=5)
    run = untrained_run(dropout=0.5, num_layers=2)
    run.model.train()
    m = evaluate(run.model, enc, classes)
    assert m.n == len(enc) and int(m.confusion.to_numpy().sum()) == len(enc)
    assert run.model.training  # left as it was found
    again = evaluate(run.model, enc, classes)
    assert again.top1 == m.top1  # no dropout noise while scoring


# --- predict --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def run():
    return untrained_run()


def test_predict_top_k_sorted_probabilities(run):
    (pred,) = predict(run, "Kqxz", k=3)
    assert pred.name == pred.normalized == "Kqxz" and pred.note == ""
    probs = [p for _, p in pred.top]
    assert len(probs) == 3 and probs == sorted(probs, reverse=True)
    assert sum(probs) <= 1.0 + 1e-6
    assert len({label for label, _ in pred.top}) == 3
    assert {label for label, _ in pred.top} <= set(run.classes)
    # the probabilities are the model's own
    enc = encode_names(["Kqxz"], [0], run.vocab)
    with torch.no_grad():
        full = run.model(enc.idx.T, enc.lengths).exp()[0]
    expected = sorted(((run.classes[i], float(p)) for i, p in enumerate(full)),
                      key=lambda t: -t[1])[:3]
    assert [label for label, _ in pred.top] == [label for label, _ in expected]
    assert probs == pytest.approx([p for _, p in expected], abs=1e-6)


def test_predict_all_classes_sum_to_one(run):
    (pred,) = predict(run, "Lomno", k=99)
    assert len(pred.top) == len(run.classes)
    assert math.fsum(p for _, p in pred.top) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("text", ["", "   ", "\t\n"])
def test_empty_name_gets_a_note_not_an_error(run, text):
    (pred,) = predict(run, text)
    assert pred.top == [] and "empty" in pred.note


def test_unseen_characters_get_a_note(run):
    (pred,) = predict(run, "Kq🙂z")
    assert "🙂" in pred.note and "<unk>" in pred.note
    assert len(pred.top) == 3
    (alone,) = predict(run, "🙂")  # a run without its label counts gives no answer
    assert "no known characters" in alone.note and alone.top == [] and "no answer" in alone.note


def test_a_name_with_no_known_character_gets_the_training_prior_not_a_guess(run):
    from dataclasses import replace

    counts = {c: n for c, n in zip(run.classes, (6, 3, 1, 0), strict=False)}
    with_counts = replace(run, info=dict(run.info, class_counts=counts))
    for text in ("🙂", "Иванов", "山田", "Ж"):
        (pred,) = predict(with_counts, text, k=3)
        assert "training prior" in pred.note
        assert pred.top == [(run.classes[0], 0.6), (run.classes[1], 0.3), (run.classes[2], 0.1)]


def test_accents_are_folded_as_in_training(run):
    (pred,) = predict(run, "  Lómno ")
    assert pred.normalized == "Lomno" and pred.note == ""


def test_a_very_long_name_is_cut_with_a_note(run):
    (pred,) = predict(run, "k" * 10_000)
    assert pred.normalized == "k" * MAX_NAME_LEN
    assert "cut" in pred.note and len(pred.top) == 3


def test_thousands_of_names_at_once_keep_their_order(run):
    names = [("Kqxz", "Lomn", "Rust", "")[i % 4] + "o" * (i % 7) for i in range(5000)]
    preds = predict(run, names, k=2)
    assert [p.name for p in preds] == names
    assert all(len(p.top) == 2 for p in preds if p.normalized)
    assert names[7] == "" and preds[7].top == [] and "empty" in preds[7].note
    alone = predict(run, names[4], k=2)[0].top
    assert [label for label, _ in preds[4].top] == [label for label, _ in alone]
    assert [p for _, p in preds[4].top] == pytest.approx([p for _, p in alone], abs=1e-6)


def test_scoring_in_chunks_gives_the_one_pass_answer(monkeypatch):
    """A split scored a few names per pass (the server's memory bound) equals one whole pass."""
    import importlib

    from helpers import small_model

    ev = importlib.import_module("nameclf.classify.evaluate")  # the module, not nameclf.evaluate
    enc, vocab, classes = synthetic_encoded(per_label=7)
    model = small_model(len(vocab), len(classes))
    whole = ev.log_probs(model, enc)
    monkeypatch.setattr(ev, "CHUNK", 3)
    chunked = ev.log_probs(model, enc)
    assert chunked.shape == (len(enc), len(classes))
    torch.testing.assert_close(chunked, whole, rtol=0, atol=1e-6)
    assert ev.SCORING._value == 2  # every pass gave its place back
