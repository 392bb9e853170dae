"""The n-gram baseline in the app, and the prediction drawn as each character is read."""

import json
import time

import pandas as pd
import pytest

from nameclf.classify.prefix import prefix_predictions
from tests.conftest import (
    TINY,
    app,
    no_exception,
    same_session,
    train_page,
    use_tiny,
    wait_for_job,
)
from tests.helpers import silent_children, untrained_run


def charts(at) -> list[dict]:
    """Every plotly figure on the page, as the JSON sent to the browser."""
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def prefix_chart(at) -> dict:
    """The 'Prediction as each character is read' figure of the Predict page."""
    (fig,) = [f for f in charts(at) if "each character" in str(f["layout"].get("title"))]
    return fig


def test_an_ngram_run_trains_on_the_train_page_and_works_everywhere(tiny_bytes, served):
    at = train_page(tiny_bytes, cell="ngram")
    no_exception(at)
    assert at.radio(key="tw_cell").value == "ngram"
    assert at.select_slider(key="tw_hidden").disabled and at.slider(key="tw_layers").disabled
    assert at.radio(key="tw_opt").disabled and not at.number_input(key="tw_seed").disabled
    assert at.query_params["cell"] == "ngram"
    at.button(key="train_start").click().run()
    wait_for_job(at)
    no_exception(at)
    runs = at.session_state["runs"]
    assert list(runs) == ["run1-ngram"] and runs["run1-ngram"].status == "completed"
    assert any("completed, fitted in" in s.value for s in at.success)
    assert [m.label for m in at.metric][:2] == ["Top-1", "Top-2"]
    assert any("L-BFGS iterations" in c.value for c in at.caption)
    assert "run1-ngram.safetensors" in served

    evaluate = same_session(at, "pages/3_Evaluate.py").run()
    no_exception(evaluate)
    # per label and most confused pairs; the mistakes table too when there are mistakes
    assert evaluate.metric[0].label == "Top-1" and len(evaluate.dataframe) >= 2
    compare = same_session(at, "pages/5_Compare.py").run()
    no_exception(compare)
    row = compare.dataframe[0].value.iloc[0]
    # an empty cell where a setting does not apply (a missing value, or text as people read it)
    assert row["cell"] == "ngram" and (pd.isna(row["hidden"]) or row["hidden"] == "")
    explain = same_session(at, "pages/6_Padding_and_packing.py").run()
    no_exception(explain)
    explain.session_state["explainer_step"] = 6  # the answer: needs a recurrent model
    explain.run()
    no_exception(explain)
    assert any("your runs are all the n-gram baseline, which has no hidden state" in c.value
               for c in explain.caption)

    predict = app("pages/4_Predict.py").run()  # a new visitor loads the downloaded checkpoint
    predict.file_uploader(key="predict_checkpoint").set_value(
        ("run1-ngram.safetensors", served["run1-ngram.safetensors"], "application/octet-stream"))
    predict.run()
    no_exception(predict)
    assert list(predict.session_state["runs"]) == ["run1-ngram"]
    predict.text_area(key="predict_text").input("Bobski\nTaloson").run()
    no_exception(predict)
    assert prefix_chart(predict)["data"][0]["x"] == ["B", "Bo", "Bob", "Bobs", "Bobsk", "Bobski"]
    assert any("n-gram model has no state" in c.value for c in predict.caption)


def test_predict_draws_each_prefix_of_a_recurrent_run():
    at = app("pages/4_Predict.py")
    at.session_state["runs"] = {"gru": untrained_run(), "lstm": untrained_run(cell="lstm")}
    at.run()
    no_exception(at)
    at.text_area(key="predict_text").input("Kxzq\n\nRust\nKxzq").run()
    no_exception(at)
    assert at.selectbox(key="predict_prefix_name").options == ["Kxzq", "Rust"]
    fig = prefix_chart(at)
    assert fig["data"][0]["x"] == ["K", "Kx", "Kxz", "Kxzq"]
    assert 1 <= len(fig["data"]) <= 4  # the synthetic data has four labels
    steps = prefix_predictions(at.session_state["runs"]["lstm"], "Kxzq", k=4)
    top = steps[-1][1][0]  # the full name's best label: its line ends at its probability
    line = next(d for d in fig["data"] if d["name"] == top[0])
    assert line["y"][-1] == pytest.approx(top[1], abs=1e-6)
    assert any("one pass" in c.value for c in at.caption)
    at.selectbox(key="predict_prefix_name").set_value("Rust").run()
    no_exception(at)
    assert prefix_chart(at)["data"][0]["x"] == ["R", "Ru", "Rus", "Rust"]
    at.text_area(key="predict_text").input("").run()
    no_exception(at)
    assert any("letter by letter" in i.value for i in at.info)


def test_stop_ends_an_ngram_fit_at_once_and_keeps_nothing(tiny_bytes, monkeypatch):
    children = silent_children(monkeypatch)  # a fit that would never finish by itself
    at = train_page(tiny_bytes, cell="ngram")
    at.button(key="train_start").click().run()
    assert at.button(key="train_stop").disabled is False
    deadline = time.monotonic() + 30
    while not children and time.monotonic() < deadline:  # Stop while its process runs
        time.sleep(0.05)
    at.button(key="train_stop").click().run()
    wait_for_job(at, timeout=30)
    no_exception(at)
    assert at.session_state["runs"] == {}
    assert any("Stopped before **run1-ngram** learned anything" in i.value for i in at.info)
    assert children[0].poll() is not None  # its process is gone
    assert not at.button(key="train_start").disabled  # free to train again


def test_compare_race_includes_the_ngram_baseline(tiny_bytes):
    at = use_tiny(app("pages/5_Compare.py"), tiny_bytes)
    at.query_params.update(TINY)
    at.run()
    assert at.checkbox(key="compare_ngram").value  # on by default
    at.slider(key="compare_steps").set_value(50).run()  # every cell the same steps
    at.button(key="compare_start").click().run()
    wait_for_job(at, timeout=120)
    no_exception(at)
    ids = ["run1-rnn", "run2-lstm", "run3-gru", "run4-ngram"]
    assert list(at.session_state["runs"]) == ids
    assert at.multiselect(key="compare_runs").value == ids
    assert [m.label for m in at.metric].count("Top-1") == 4
    assert any("fitted in" in c.value for c in at.caption)
    assert at.dataframe[0].value["cell"].tolist() == ["rnn", "lstm", "gru", "ngram"]


def test_prefix_lines_keeps_the_leaders_of_every_prefix_up_to_max_lines():
    from nameclf.charts.figures import prefix_lines

    steps = [("a", [("X", 0.5), ("Y", 0.3), ("Z", 0.2)]),
             ("ab", [("Z", 0.9), ("X", 0.06), ("Y", 0.04)])]
    fig = prefix_lines(steps, top=1)
    assert [d.name for d in fig.data] == ["Z", "X"]  # each prefix's top-1, highest peak first
    assert list(fig.data[0].x) == ["a", "ab"] and list(fig.data[0].y) == [0.2, 0.9]
    assert [d.name for d in prefix_lines(steps, top=3, max_lines=2).data] == ["Z", "X"]
    assert prefix_lines([]).data == ()


def test_a_mixture_trains_from_a_link_and_the_other_pages_use_it(tiny_bytes):
    from nameclf.classify.mixture import Mixture

    at = train_page(tiny_bytes, mix="0.3")
    no_exception(at)
    assert at.slider(key="tw_mix").value == 0.3 and at.query_params["mix"] == "0.3"
    at.button(key="train_start").click().run()
    wait_for_job(at)
    no_exception(at)
    (run_id, run), = at.session_state["runs"].items()
    assert run_id == "run1-gru-ngram" and isinstance(run.model, Mixture)
    assert run.status == "completed" and run.model_config.ngram_weight == 0.3
    (line,) = [c.value for c in at.caption if "n-gram model, mixed" in c.value]
    parts = run.info["parts_top1"]
    assert line == (f"70% GRU + 30% n-gram model, mixed. Top-1 on the test split, each alone: "
                    f"GRU {parts['gru']:.1%}, n-gram {parts['ngram']:.1%} (mixed: "
                    f"{run.metrics['top1']:.1%}). The curves are the GRU's, from before the "
                    "n-gram model was fitted; the stars are the mixture's.")
    (acc,) = [f for f in charts(at) if "accuracy" in str(f["layout"].get("title"))]
    stars = {t["name"]: (t["x"], t["y"]) for t in acc["data"] if "mixed" in t["name"]}
    last = run.history["eval_step"][-1]
    assert stars == {"top-1 mixed": ([last], [run.metrics["top1"]]),
                     "top-2 mixed": ([last], [run.metrics["top2"]])}

    explainer = same_session(at, "pages/6_Padding_and_packing.py").run()
    explainer.slider(key="explainer_step").set_value(explainer.slider(key="explainer_step").max)
    explainer.run()
    no_exception(explainer)
    assert any("without its mixed-in n-gram model" in c.value for c in explainer.caption)

    predict_page = same_session(at, "pages/4_Predict.py").run()
    no_exception(predict_page)
    assert any("mixed-in n-gram model" in c.value for c in predict_page.caption)

    evaluate = same_session(at, "pages/3_Evaluate.py").run()
    no_exception(evaluate)
    assert evaluate.metric[0].value == f"{run.metrics['top1']:.1%}"  # the mixture's own
    assert evaluate.caption[2].value == line.split(" The curves")[0]  # the same split: same parts

    compare = same_session(at, "pages/5_Compare.py").run()
    no_exception(compare)
    table = compare.dataframe[0].value
    assert [float(w) for w in table["ngram_weight"]] == [0.3]  # a number, or its text


def test_the_ngram_baseline_disables_the_mix_slider(tiny_bytes):
    at = train_page(tiny_bytes, cell="ngram", mix="0.3")
    no_exception(at)
    assert at.slider(key="tw_mix").disabled


def compare_page(tiny_bytes, caption: str, ngram: bool, **query):
    """Compare opened by a link with TINY's settings and `query`; its caption says `caption`;
    the race (5 s per model, the n-gram baseline or not) has run."""
    at = use_tiny(app("pages/5_Compare.py"), tiny_bytes)
    at.query_params.update({**TINY, "steps": "5", **query})
    at.run()
    assert any(caption in c.value for c in at.caption)
    at.slider(key="compare_steps").set_value(50).run()  # every cell the same steps
    if not ngram:
        at.checkbox(key="compare_ngram").uncheck().run()
    at.button(key="compare_start").click().run()
    wait_for_job(at, timeout=120)
    no_exception(at)
    return at


def test_compare_races_each_cell_alone_even_with_a_mix_set(tiny_bytes):
    at = compare_page(tiny_bytes, "no n-gram model mixed in", ngram=False, mix="0.5")
    runs = at.session_state["runs"]
    assert list(runs) == ["run1-rnn", "run2-lstm", "run3-gru"]
    assert all(r.model_config.ngram_weight == 0.0 for r in runs.values())


def test_stop_while_the_ngram_model_is_fitted_for_a_mixture_keeps_the_gru(tiny_bytes,
                                                                          monkeypatch):
    children = silent_children(monkeypatch)  # the n-gram fit never answers by itself
    at = train_page(tiny_bytes, mix="0.3")
    at.button(key="train_start").click().run()
    deadline = time.monotonic() + 60
    while not children and time.monotonic() < deadline:  # the GRU has trained: the fit is on
        time.sleep(0.05)
    assert children, "the n-gram fit never started"
    at.run()
    assert any("fitting the n-gram model to mix in" in p.proto.text
               for p in at.get("progress")), "the panel does not say what it waits for"
    at.button(key="train_stop").click().run()
    wait_for_job(at, timeout=30)
    no_exception(at)
    (run_id, run), = at.session_state["runs"].items()
    assert run_id == "run1-gru" and run.status == "stopped"  # named after what was kept
    assert run.model_config.kind == "gru" and run.info["steps"] == 30
    assert any(c.value == "n-gram model not mixed in: its fit was stopped" for c in at.caption)
    assert any("stopped after 30 steps" in w.value for w in at.warning)


def test_the_word_frequencies_checkbox_is_on_only_with_an_ngram_part(tiny_bytes):
    at = train_page(tiny_bytes, lexicon="1")
    no_exception(at)
    box = at.checkbox(key="tw_lexicon")
    assert box.value and box.disabled  # a GRU alone: nothing would read them
    at.slider(key="tw_mix").set_value(0.3).run()
    assert not at.checkbox(key="tw_lexicon").disabled
    at.slider(key="tw_mix").set_value(0.0).run()
    at.radio(key="tw_cell").set_value("ngram").run()
    assert not at.checkbox(key="tw_lexicon").disabled and at.query_params["lexicon"] == "1"


def test_word_frequencies_reach_the_ngram_model_alone_and_mixed_in(tiny_bytes):
    at = train_page(tiny_bytes, mix="0.5", lexicon="1")
    at.button(key="train_start").click().run()
    wait_for_job(at)
    no_exception(at)
    (run_id, run), = at.session_state["runs"].items()
    assert run_id == "run1-gru-ngram" and run.model.ngram.config.lexicon
    assert any(c.value.startswith("50% GRU + 50% n-gram model with word frequencies, mixed.")
               for c in at.caption)
    at.radio(key="tw_cell").set_value("ngram").run()
    at.button(key="train_start").click().run()
    wait_for_job(at)
    no_exception(at)
    ngram = at.session_state["runs"]["run2-ngram"]
    assert ngram.model_config.lexicon and ngram.model.lexicon_coef.shape[1] == 26
    assert any("L-BFGS iterations, with word frequencies)" in s.value for s in at.success)
    compare = same_session(at, "pages/5_Compare.py").run()
    no_exception(compare)
    assert compare.dataframe[0].value["lexicon"].tolist() == ["yes", "yes"]  # as people read
    evaluate = same_session(at, "pages/3_Evaluate.py").run()
    no_exception(evaluate)

    from nameclf.data import lexicon

    predict_page = same_session(at, "pages/4_Predict.py").run()
    predict_page.text_area(key="predict_text").input("Keller\nIvanov\nKeller\nQzxq").run()
    no_exception(predict_page)
    (fig,) = [f for f in charts(predict_page) if "as a word" in str(f["layout"]["title"])]
    (heat,) = fig["data"]
    assert heat["y"] == ["Keller", "Ivanov", "Qzxq"] and heat["x"] == list(lexicon.LANGUAGE_NAMES)
    want = lexicon.load().lookup(["Keller", "Ivanov", "Qzxq"])
    assert heat["z"] == [[v if v > 0 else None for v in row] for row in want.tolist()]
    assert heat["z"][2] == [None] * 12  # a made-up name is in no list


def test_predict_shows_no_word_frequencies_for_a_model_that_does_not_read_them():
    at = app("pages/4_Predict.py")
    at.session_state["runs"] = {"gru": untrained_run()}
    at.run()
    no_exception(at)
    assert not [f for f in charts(at) if "as a word" in str(f["layout"].get("title"))]
    assert "What the word frequencies say" not in [h.value for h in at.subheader]


def test_compare_gives_word_frequencies_to_the_ngram_baseline_only(tiny_bytes):
    at = compare_page(tiny_bytes, "the n-gram baseline reads word frequencies", ngram=True,
                      lexicon="1")
    runs = at.session_state["runs"]
    assert list(runs) == ["run1-rnn", "run2-lstm", "run3-gru", "run4-ngram"]
    assert [r.model_config.lexicon for r in runs.values()] == [False, False, False, True]


def test_a_stop_between_two_cells_says_which_were_not_trained(tiny_bytes, monkeypatch):
    """Stop landing after one cell finished and before the next started: the page names the
    cells left untrained (a Stop that seemed to do nothing was a bug, seen in CI)."""
    import nameclf.classify.pipeline as pipeline

    real_fit = pipeline.fit

    def fit_then_stop(*args, **kwargs):  # the visitor's Stop, just as the first cell ends
        run = real_fit(*args, **kwargs)
        kwargs["stop"].set()
        return run

    monkeypatch.setattr(pipeline, "fit", fit_then_stop)
    at = use_tiny(app("pages/5_Compare.py"), tiny_bytes)
    at.query_params.update(TINY)
    at.run()
    at.slider(key="compare_steps").set_value(20).run()
    at.button(key="compare_start").click().run()
    wait_for_job(at, timeout=120)
    no_exception(at)
    assert list(at.session_state["runs"]) == ["run1-rnn"]
    assert any(i.value == "Stopped before **run2-lstm**, **run3-gru**, **run4-ngram** started, "
                          "so were not trained." for i in at.info)
