"""AppTests of the Padding & packing and Speed race pages, each started by deep link."""

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from nameclf.classify.config import TrainConfig
from nameclf.classify.pipeline import Run
from nameclf.data.vocab import Vocab
from nameclf.lab.packing import STEPS, fresh_model
from tests.conftest import use_tiny

PAGES = Path(__file__).resolve().parent.parent / "pages"
EXPLAINER = str(PAGES / "6_Padding_and_packing.py")
RACE = str(PAGES / "7_Speed_race.py")


def _markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.fixture
def explainer() -> AppTest:
    at = AppTest.from_file(EXPLAINER, default_timeout=120)
    at.run()
    assert not at.exception
    return at


def test_deep_link_defaults(explainer):
    names = explainer.text_input(key="explainer_names").value.split(", ")
    assert len(names) == 3 and len(names[2]) > len(names[0]) > len(names[1])
    assert "Step 1" in explainer.subheader[0].value
    explainer.slider(key="explainer_step").set_value(3).run()  # sorting: both index tensors
    text = _markdown(explainer)
    assert "`sorted_indices` = **[2, 0, 1]**" in text
    assert "`unsorted_indices` = **[1, 2, 0]**" in text
    assert "real timesteps" in _markdown(explainer)


def test_walk_every_step(explainer):
    at = explainer
    at.text_input(key="explainer_names").set_value("Ram, Shyam, Al").run()
    assert not at.exception and not at.warning
    seen = []
    for step in range(1, len(STEPS) + 1):
        assert at.slider(key="explainer_step").value == step
        assert f"Step {step} · {STEPS[step - 1]}" == at.subheader[0].value
        assert at.code, "every step shows its PyTorch call"
        seen.append(at.code[0].value)
        text = _markdown(at)
        if step == 1:
            assert "(5, 3, " in text  # (T, B, V)
            at.selectbox(key="explainer_b").set_value(2).run()
            assert not at.exception
        elif step == 2:
            assert _metrics(at) == {"Real cells": "10", "Padded grid cells (T × B)": "15",
                                    "<pad> cells": "5", "Computation wasted": "33%"}
            assert at.dataframe[0].value.shape == (5, 3)  # the (T, B) index tensor
        elif step == 3:
            assert "`sorted_indices` = **[1, 0, 2]**" in text
            assert "`unsorted_indices` = **[1, 0, 2]**" in text
            assert at.dataframe[0].value["name"].tolist() == ["Shyam", "Ram", "Al"]
        elif step == 4:
            assert "`batch_sizes` = **[3, 3, 2, 1, 1]**" in text
            assert at.dataframe[0].value["batch_sizes[t]"].tolist() == [3, 3, 2, 1, 1]
        elif step == 5:
            at.slider(key="explainer_t").set_value(3).run()
            assert "`batch_sizes[3]` = **1**" in _markdown(at)
            assert "Finished, state frozen: Ram, Al." in _markdown(at)
            status = at.dataframe[0].value
            assert status["status"].tolist() == ["finished", "reading", "finished"]
        else:
            metrics = _metrics(at)
            assert float(metrics["Largest |Δh|, naive vs packed"]) > 0
            assert float(metrics["Packed vs one name at a time"]) < 1e-5
            assert "freshly initialised" in at.caption[0].value
            table = at.dataframe[0].value
            assert table.loc[table["name"] == "Shyam", "max |Δh|"].item() < 1e-6
        assert not at.exception
        if step < len(STEPS):
            at.button(key="explainer_next").click().run()
    assert len(set(seen)) == len(STEPS)
    at.button(key="explainer_back").click().run()
    assert at.slider(key="explainer_step").value == len(STEPS) - 1


def test_pick_other_names_and_uploaded_dataset(tiny_bytes):
    at = use_tiny(AppTest.from_file(EXPLAINER, default_timeout=120), tiny_bytes)
    at.run()
    first = at.text_input(key="explainer_names").value
    assert first.split(", ")[0].endswith(("ski", "wicz", "czak", "son", "sen", "ston", "ez", "es",
                                          "ado"))
    at.button(key="explainer_pick").click().run()
    assert at.text_input(key="explainer_names").value != first
    assert not at.exception and not at.warning


@pytest.mark.parametrize("text", ["Shyam", "", "Shyam, , Ram", ", ".join(["Ab"] * 9)])
def test_bad_names_warn(explainer, text):
    explainer.text_input(key="explainer_names").set_value(text).run()
    assert not explainer.exception
    assert explainer.warning and not explainer.code


def test_fewer_names_keep_widgets_in_range(explainer):
    at = explainer
    at.text_input(key="explainer_names").set_value("Alexandrova, Bo, Li, Xu").run()
    at.slider(key="explainer_step").set_value(5).run()
    at.slider(key="explainer_t").set_value(10).run()
    at.text_input(key="explainer_names").set_value("Shyam, Ram").run()
    assert not at.exception
    assert at.slider(key="explainer_t").value == 4


def test_latest_run_is_used(explainer):
    at = explainer
    vocab = Vocab.build(["Shyam", "Ram"])
    run = Run(fresh_model(len(vocab), 2), vocab, ["Hindi", "Other"], TrainConfig())
    at.session_state["runs"] = {"r1": run}
    at.text_input(key="explainer_names").set_value("Shyam, Ram").run()
    at.slider(key="explainer_step").set_value(len(STEPS)).run()
    assert not at.exception
    assert "your latest trained recurrent run, r1" in at.caption[0].value
    assert set(at.dataframe[0].value["packed: label"]) <= {"Hindi", "Other"}


def test_step_6_uses_the_latest_recurrent_run_when_the_newest_is_the_ngram_baseline(explainer):
    from types import SimpleNamespace

    from nameclf.classify.config import ModelConfig

    at = explainer
    vocab = Vocab.build(["Shyam", "Ram"])
    gru = Run(fresh_model(len(vocab), 2), vocab, ["Hindi", "Other"], TrainConfig())
    ngram = Run(SimpleNamespace(config=ModelConfig(cell="ngram", vocab_size=10, n_classes=2)),
                vocab, ["Hindi", "Other"], TrainConfig())
    at.session_state["runs"] = {"run1-lstm": gru, "run2-ngram": ngram}
    at.text_input(key="explainer_names").set_value("Shyam, Ram").run()
    at.slider(key="explainer_step").set_value(len(STEPS)).run()
    assert not at.exception
    caption = at.caption[0].value
    assert "your latest trained recurrent run, run1-lstm" in caption
    assert "newest run is the n-gram baseline" in caption and "freshly" not in caption


@pytest.mark.parametrize("cell, returns", [("gru", "a GRU returns h_n"),
                                           ("rnn", "an RNN returns h_n"),
                                           ("lstm", "an LSTM returns (h_n, c_n)")])
def test_step_6_code_reads_the_final_state_as_the_runs_cell_returns_it(explainer, cell,
                                                                        returns):
    from nameclf.classify.config import ModelConfig
    from nameclf.classify.model import NameClassifier

    at = explainer
    vocab = Vocab.build(["Shyam", "Ram"])
    model = NameClassifier(ModelConfig(cell=cell, vocab_size=len(vocab), n_classes=2,
                                       hidden_size=8, embedding_dim=4))
    at.session_state["runs"] = {f"run1-{cell}": Run(model, vocab, ["Hindi", "Other"],
                                                    TrainConfig())}
    at.text_input(key="explainer_names").set_value("Shyam, Ram").run()
    at.slider(key="explainer_step").set_value(len(STEPS)).run()
    assert not at.exception
    code = at.code[0].value
    assert returns in code
    if cell != "lstm":
        assert "LSTM" not in code and "c_n" not in code


def test_step_6_says_how_far_the_probabilities_moved(explainer):
    at = explainer
    at.text_input(key="explainer_names").set_value("Shyam, Ram, Al").run()
    at.slider(key="explainer_step").set_value(len(STEPS)).run()
    note = next(m.value for m in at.markdown if "percentage points" in m.value)
    table = at.dataframe[0].value
    shift = 100 * table["max |Δp|"].max()
    assert f"the largest move of any label's probability was {shift:.2f} percentage" in note
    changed = int(table["changed"].sum())
    if changed:
        assert f"The top label changed for {changed} of 3 names" in note
    else:
        assert "No name's top label changed" in note


def _race(at: AppTest, timeout: float = 90) -> None:
    if at.session_state["race_job"] is None:
        at.button(key="race_start").click().run()
    start = time.time()
    while at.session_state["race_job"] is not None:  # fragments don't auto-run in AppTest
        assert time.time() - start < timeout, "the race did not finish"
        time.sleep(0.25)
        at.run()
    assert not at.exception


def test_speed_race_defaults_are_the_tutorials_setup_and_the_intro_counts_the_bars():
    at = AppTest.from_file(RACE, default_timeout=120)
    at.run()
    assert at.radio(key="race_cell").value == "rnn"
    assert at.select_slider(key="race_hidden").value == 128
    assert at.radio(key="race_input").value == "one-hot"
    assert at.number_input(key="race_batch").value >= at.number_input(key="race_n").value
    at.radio(key="race_device").set_value("cpu").run()
    assert "same names four ways" in _markdown(at)  # per-sample, padded, packed, PyTorch's


def test_speed_race_runs_and_table_grows():
    at = AppTest.from_file(RACE, default_timeout=120)
    at.run()
    assert not at.exception and at.info  # no race yet
    at.radio(key="race_cell").set_value("lstm")
    at.number_input(key="race_n").set_value(16)
    at.number_input(key="race_batch").set_value(8)
    at.slider(key="race_seconds").set_value(0.5)
    at.select_slider(key="race_hidden").set_value(16)
    at.radio(key="race_device").set_value("cpu")  # also on a machine with a GPU
    at.run()
    at.button(key="race_start").click().run()
    assert not [i for i in at.info if "No race yet" in i.value]  # racing: the bar says so
    _race(at)
    assert "Packing skipped the" in _markdown(at)  # why packing won or lost, from this race
    ratios = _metrics(at)
    assert set(ratios) == {"padded ÷ per-sample", "packed ÷ per-sample", "packed ÷ padded",
                           "packed ÷ PyTorch's cell"}  # on the CPU, PyTorch's cell races too
    assert all(float(v.rstrip("×")) > 0 for v in ratios.values())
    assert len(at.dataframe[0].value) == 1
    at.radio(key="race_cell").set_value("gru").run()
    _race(at)
    table = at.dataframe[0].value
    assert table["race"].tolist() == [1, 2] and table["cell"].tolist() == ["lstm", "gru"]
    assert (table["packed ÷ per-sample"] > 0).all()
    assert (table["packed-torch names/s"] > 0).all()


def test_speed_race_can_be_stopped():
    at = AppTest.from_file(RACE, default_timeout=120)
    at.run()
    at.number_input(key="race_n").set_value(16)
    at.slider(key="race_seconds").set_value(10.0)
    at.button(key="race_start").click().run()
    at.button(key="race_stop").click().run()
    start = time.time()
    while at.session_state["race_job"] is not None:
        assert time.time() - start < 30, "the race did not stop"
        time.sleep(0.25)
        at.run()
    assert not at.exception
    rows = at.session_state["race_results"]
    assert not rows or rows[-1]["status"] == "stopped"
