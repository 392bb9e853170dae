"""Evaluate's confusion cells listing their test names, and Predict's "Why this name?"
strips, opened by the link a cell's name carries."""

import pytest

from nameclf.classify.config import ModelConfig, TrainConfig
from nameclf.classify.pipeline import fit, prepare
from nameclf.data.dataset import load_bytes
from nameclf.ui.analysis import cell_names, evaluate_run
from tests.conftest import app, no_exception, tiny_names, use_tiny


@pytest.fixture(scope="module")
def trained():
    raw = tiny_names()
    ds = load_bytes(raw, "tiny.txt")
    run = fit(prepare(ds, "names", seed=0), ModelConfig(cell="gru", hidden_size=16),
              TrainConfig(steps=40, batch_size=16, eval_every=0))
    return raw, ds, run


def with_run(page: str, trained):
    raw, ds, run = trained
    at = use_tiny(app(page), raw)
    at.session_state["runs"] = {"run1-gru": run}
    at.session_state["run_data"] = {"run1-gru": (ds, "names", 0)}
    return at


def test_a_cell_lists_exactly_its_test_names(trained):
    _, ds, run = trained
    result = evaluate_run(run, ds, "names", 0)
    table = result.table
    assert len(table) == result.n_test
    for (true, pred), count in result.metrics.confusion.stack().items():
        cell = cell_names(table, true, pred, limit=10_000)
        assert len(cell) == count  # the same names the heatmap counts
        assert (cell["true"] == true).all() and (cell["predicted"] == pred).all()
        assert cell["p(predicted)"].is_monotonic_decreasing


def test_evaluate_opens_a_cell_and_says_when_it_is_empty(trained):
    at = with_run("pages/3_Evaluate.py", trained).run()
    no_exception(at)
    true, pred = at.selectbox(key="eval_cell_true"), at.selectbox(key="eval_cell_pred")
    table = at.session_state["evaluations"]
    result = next(iter(table.values()))
    counts = result.metrics.confusion
    full = [(t, p) for (t, p), n in counts.stack().items() if n]
    empty = [(t, p) for (t, p), n in counts.stack().items() if not n]
    t, p = full[0]
    true.set_value(t)
    pred.set_value(p)
    at.run()
    no_exception(at)
    shown = next(d.value for d in at.dataframe if "p(predicted)" in d.value.columns)
    assert len(shown) == counts.loc[t, p]
    assert list(shown.columns) == ["name", "p(predicted)", "p(true)", "top-3"]
    assert any(f"labelled {t} were predicted as {p}" in c.value for c in at.caption)
    if empty:  # an empty cell: one clear line, no table
        t, p = empty[0]
        at.selectbox(key="eval_cell_true").set_value(t)
        at.selectbox(key="eval_cell_pred").set_value(p).run()
        no_exception(at)
        assert [i.value for i in at.info if "this cell is empty" in i.value]


def test_predict_explains_the_linked_name(trained):
    at = with_run("pages/4_Predict.py", trained)
    at.query_params.update({"name": "Dorapson", "run": "run1-gru"})
    at.run()
    no_exception(at)
    assert at.text_area(key="predict_text").value == "Dorapson"
    assert "Why this name?" in [h.value for h in at.subheader]
    strips = [e for e in at.get("html")]
    assert len(strips) == 2  # occlusion and integrated gradients
    body = strips[0].proto.body
    assert "Occlusion" in body and body.count("<span") == len("Dorapson")
    assert "Integrated gradients" in strips[1].proto.body
    assert any("explain this model, not the language" in c.value for c in at.caption)
    at.text_area(key="predict_text").set_value("Kowalski").run()  # the link applies once
    assert at.text_area(key="predict_text").value == "Kowalski"
    assert at.selectbox(key="predict_prefix_name").value == "Kowalski"
