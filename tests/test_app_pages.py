"""Every page opens on a fresh session (a deep link), and its main widgets work."""

import io
import re
import urllib.error
import urllib.request
import zipfile

import pytest

from nameclf.data.dataset import load_bytes
from nameclf.data.splits import make_split
from nameclf.ui import cache
from tests.conftest import PAGES, app, no_exception, tiny_names, use_tiny
from tests.helpers import assert_no_toolbar


@pytest.mark.parametrize("page", ["streamlit_app.py", *PAGES])
def test_every_page_opens_as_a_first_request(page):
    at = app(page).run()
    no_exception(at)
    assert at.title, "every page has a title"


def test_home_upload_shows_the_report_and_becomes_the_dataset():
    raw = tiny_names() + b"\nno separator here\nToo, many, commas\n"
    at = app().run()
    at.radio(key="home_source").set_value("upload").run()
    at.file_uploader(key="home_upload").set_value(("mine.txt", raw, "text/plain")).run()
    no_exception(at)
    assert at.session_state["dataset_source"] == "upload"
    summary = " ".join(i.value for i in at.info)
    assert "120 names in 3 labels from mine.txt" in summary and "2 rows skipped" in summary
    assert any("upload:mine.txt" in m.value for m in at.markdown)


def test_a_bad_upload_is_refused_and_nothing_is_lost():
    at = app().run()
    at.radio(key="home_source").set_value("upload").run()
    at.file_uploader(key="home_upload").set_value(("good.txt", tiny_names(), "text/plain")).run()
    at.file_uploader(key="home_upload").set_value(("bad.txt", b"\x00\x01\x02" * 50,
                                                   "text/plain")).run()
    no_exception(at)
    assert any("bad.txt was not loaded" in e.value for e in at.error)
    assert at.session_state["upload"][0] == "good.txt"
    assert at.session_state["dataset_source"] == "upload"


def test_home_button_opens_train_with_the_recommended_preset():
    at = app().run()
    at.button(key="home_train").click().run()
    no_exception(at)
    assert at.session_state["train_values"]["preset"] == "fast"
    assert at.selectbox(key="tw_preset").value == "fast"
    assert any("Train" in t.value for t in at.title)


def test_data_page_search_and_leakage(tiny_bytes):
    at = use_tiny(app("pages/1_Data.py"), tiny_bytes + b"\nBobski, Son\nBobski, Ski").run()
    no_exception(at)
    # its two charts are HTML (no plotly.js on the first view), drawn from this file
    assert not at.get("plotly_chart")
    counts, lengths = (h.proto.body for h in at.get("html"))
    assert "Names per label" in counts and 'title="Bobski' not in counts
    assert all(f'title="{label}: ' in counts for label in at.session_state["upload"][1].classes)
    assert "Name length" in lengths and 'title="6 characters: ' in lengths  # Bobski
    # the tables are drawn once their expander is opened (they need pandas, the page not)
    assert [e.label for e in at.expander] == ["Browse and search the names",
                                              "Names with more than one label"]
    assert not at.dataframe and not at.text_input
    at.session_state["data_browse"] = True
    at.run()
    assert len(at.dataframe[0].value) == len(at.session_state["upload"][1].names)  # all: < 500
    at.text_input(key="data_query").input("bobski").run()
    assert len(at.dataframe[0].value) == 2
    assert at.metric[1].value == "1"  # Bobski has two labels
    at.session_state["data_conflicts"] = True
    at.run()
    assert list(at.dataframe[1].value.itertuples(index=False)) == [("Bobski", "Ski, Son")]
    assert at.metric[4].label == "Top-1 ceiling"  # short enough not to be cut off
    assert "highest top-1 any model can reach" in at.metric[4].proto.help
    at.radio(key="data_split").set_value("names").run()
    assert at.metric[3].value.startswith("0 of")
    no_exception(at)
    ds = load_bytes(tiny_bytes + b"\nBobski, Son\nBobski, Ski", "tiny.txt")
    at.number_input(key="data_seed").set_value(2).run()  # Bobski's rows: 1 / 2 in test
    shown = []
    for split in ("rows", "names"):
        at.radio(key="data_split").set_value(split).run()
        test = make_split(ds, split, seed=2).test
        bobski = sum(ds.names[i] == "Bobski" for i in test)
        ceiling = 1 - (bobski == 2) / len(test)  # one of Bobski's two rows can be right
        assert at.metric[4].value == f"{ceiling:.1%}"
        shown.append(at.metric[4].value)
    assert shown[0] == "100.0%" != shown[1]


def test_predict_and_evaluate_point_to_train_without_runs():
    for page in ("pages/3_Evaluate.py", "pages/4_Predict.py"):
        at = app(page).run()
        no_exception(at)
        assert any("No trained model yet" in i.value for i in at.info)
        assert at.file_uploader(key=("eval" if "Eval" in page else "predict") + "_checkpoint")


class FakeResponse(io.BytesIO):
    """Enough of an HTTP response for the downloader."""

    def __init__(self, body: bytes):
        super().__init__(body)
        self.headers = {"Content-Length": str(len(body))}


def names_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for label, names in (("Czech", "Novak\nDvorak\nSvoboda"), ("Irish", "Murphy\nKelly")):
            archive.writestr(f"data/names/{label}.txt", names)
    return buf.getvalue()


def test_pytorch_names_offline_shows_a_clear_message(monkeypatch, tmp_path):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("Temporary failure in name resolution")

    monkeypatch.setattr(cache, "DATA_DIR", tmp_path)
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    at = app().run()
    at.radio(key="home_source").set_value("builtin:pytorch-names").run()
    at.button(key="home_download").click().run()
    no_exception(at)
    (error,) = at.error
    assert "could not download" in error.value and "by hand" in error.value
    assert at.session_state["dataset_source"] == "builtin:faker-surnames"


def test_pytorch_names_download_with_progress(monkeypatch, tmp_path):
    monkeypatch.setattr(cache, "DATA_DIR", tmp_path)
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: FakeResponse(names_zip()))
    cache.builtin_dataset.clear()
    at = app().run()
    at.radio(key="home_source").set_value("builtin:pytorch-names").run()
    at.button(key="home_download").click().run()
    no_exception(at)
    assert at.session_state["dataset_source"] == "builtin:pytorch-names"
    assert at.get("progress")[0].value == 100 or at.get("progress")[0].proto.value == 100
    assert any("5 names in 2 labels" in i.value for i in at.info)
    cache.builtin_dataset.clear()  # later tests must not see the fake dataset


def compare_with(runs: dict):
    """Compare opened by a visitor who already has `runs` (id -> Run)."""
    at = app("pages/5_Compare.py")
    at.session_state["runs"] = runs
    at.session_state["run_data"] = {}
    return at.run()


def test_compare_table_shows_numbers_as_people_read_them():
    from types import SimpleNamespace

    from helpers import untrained_run

    from nameclf.classify.config import ModelConfig
    from nameclf.classify.pipeline import Run
    from nameclf.ui import analysis

    gru = untrained_run()
    gru.info.update(steps=1292, train_seconds=15.0999999, names_per_second=1234.56,
                    split="names", dataset="builtin:faker-surnames")
    gru.metrics = {"top1": 0.61234, "top2": 0.7, "top3": 0.8, "macro_f1": 0.5}
    ngram = Run(SimpleNamespace(config=ModelConfig(cell="ngram", vocab_size=30, n_classes=3)),
                gru.vocab, gru.classes, gru.train_config,
                info={"train_seconds": 4.04, "steps": 37}, metrics=dict(gru.metrics))
    at = compare_with({"run1-gru": gru, "run2-ngram": ngram})
    no_exception(at)
    table = at.dataframe[-1].value  # what the browser draws, cell by cell
    assert table["hidden"].tolist() == ["8", ""] and table["batch"].tolist()[1] == ""
    assert table["steps"].tolist() == ["1,292", "37"]
    assert table["train s"].tolist() == ["15.1", "4.0"]
    assert table["top1"].tolist() == ["61.2%", "61.2%"]
    assert table["names/s"].tolist() == ["1,235", ""]
    assert table["optimizer"].tolist() == ["adamw", ""]  # empty: does not apply
    assert table["bidir"].tolist() == ["no", ""]
    cells = set(table.to_numpy().ravel())
    assert not cells & {"None", "nan", "<NA>", "NaN"}
    assert not [c for c in cells if re.fullmatch(r"\d+\.\d{5,}", c)]  # no 4.000000
    assert '"alignment":"right"' in at.dataframe[-1].proto.columns.replace(" ", "")
    typed = analysis.settings_table([analysis.settings_row(r, run) for r, run in
                                     {"run1-gru": gru, "run2-ngram": ngram}.items()])
    assert str(typed["hidden"].dtype) == "Int64"  # the numbers underneath stay numbers


def test_predict_picker_follows_what_is_typed_and_empty_lines_get_a_word():
    from helpers import untrained_run

    at = app("pages/4_Predict.py")
    at.session_state["runs"] = {"gru": untrained_run()}
    at.run()
    picker = lambda: at.selectbox(key="predict_prefix_name")  # noqa: E731
    assert picker().value == "Nakamura"
    at.text_area(key="predict_text").input("Schmidt\nO'Brien\nKowalski").run()
    assert picker().value == "Schmidt"  # Nakamura is no longer typed: the first name
    picker().set_value("Kowalski").run()
    at.text_area(key="predict_text").input("Schmidt\nO'Brien\nKowalski\nNovak").run()
    assert picker().value == "Novak"  # the name just typed
    chart = at.get("plotly_chart")[-1].proto.spec
    assert '"N","No","Nov","Nova","Novak"' in chart.replace(" ", "")
    assert not [c for c in at.caption if "empty line" in c.value]
    at.text_area(key="predict_text").input("Schmidt\n\n\nNovak\n").run()
    no_exception(at)
    assert any("2 empty lines between the names skipped" in c.value for c in at.caption)


def test_preset_box_says_custom_once_a_setting_is_changed():
    at = app("pages/2_Train.py").run()
    box = lambda: at.selectbox(key="tw_preset")  # noqa: E731
    assert box().value == "fast" and "fast" in box().options
    at.number_input(key="tw_seed").set_value(7).run()  # the seed is not the preset's
    assert "fast" in box().options
    at.select_slider(key="tw_hidden").set_value(64).run()
    no_exception(at)
    assert "custom (from fast)" in box().options and box().value == "fast"
    assert at.session_state["train_values"]["preset"] == "fast"  # the rest still comes from it
    at.select_slider(key="tw_hidden").set_value(128).run()  # back to the preset's value
    assert "fast" in box().options and "custom (from fast)" not in box().options


def test_home_says_what_a_label_means_and_what_the_models_are_for():
    at = app().run()
    no_exception(at)
    caveat = next(c.value for c in at.caption if "What a label means" in c.value)
    assert "not a person's nationality or ethnicity" in caveat
    assert "not for decisions about people" in caveat


def test_evaluate_gives_long_names_room_in_the_mistakes_table(tiny_bytes):
    from tests.conftest import same_session, train_page, wait_for_job

    at = train_page(tiny_bytes, steps="1")  # one step: plenty of mistakes
    at.button(key="train_start").click().run()
    wait_for_job(at)
    ev = same_session(at, "pages/3_Evaluate.py").run()
    no_exception(ev)
    mistakes = ev.dataframe[-1]
    assert list(mistakes.value.columns) == ["name", "true", "predicted", "top-3"]
    assert '"name":{"width":"large"' in mistakes.proto.columns.replace(" ", "")


def test_evaluate_shows_top1_per_name_beside_per_row(tiny_bytes):
    from nameclf.classify.evaluate import name_top1
    from nameclf.ui.analysis import evaluate_run
    from tests.conftest import same_session, train_page, wait_for_job

    at = train_page(tiny_bytes + b"\nBobski, Son\nBobski, Son\nBobski, Ski")
    at.button(key="train_start").click().run()
    wait_for_job(at)
    ev = same_session(at, "pages/3_Evaluate.py").run()
    no_exception(ev)
    labels = [m.label for m in ev.metric]
    assert labels[:2] == ["Top-1", "Top-2"] and "Top-1 per name" in labels
    tile = ev.metric[labels.index("Top-1 per name")]
    assert "per row" in tile.proto.help and "distinct test name" in tile.proto.help
    (run_id, run), = ev.session_state["runs"].items()
    result = evaluate_run(run, load_bytes(tiny_bytes + b"\nBobski, Son\nBobski, Son\nBobski, "
                                          b"Ski", "tiny.txt"), "names", 1)
    assert result.top1_names is not None and tile.value == f"{result.top1_names:.1%}"
    assert name_top1  # the same function the CLI's metrics.json uses


def test_fit_lines_name_the_n_gram_solver_and_step_counts_have_separators():
    from types import SimpleNamespace

    from helpers import untrained_run
    from streamlit.testing.v1 import AppTest

    from nameclf.classify.config import ModelConfig
    from nameclf.classify.pipeline import Run
    from nameclf.ui import views

    base = untrained_run()
    ngram = Run(SimpleNamespace(config=ModelConfig(cell="ngram", vocab_size=30, n_classes=3)),
                base.vocab, base.classes, base.train_config, info={"steps": 1250})
    assert "1,250 L-BFGS iterations" in views.fit_line(ngram)
    ngram.info["ngram_solver"] = "sgd"  # above 50 labels the fit runs SGD passes
    assert "1,250 SGD passes" in views.fit_line(ngram)
    assert "L-BFGS" not in views.fit_line(ngram)

    def page():
        from helpers import untrained_run

        from nameclf.ui import views

        run = untrained_run()
        run.info["steps"] = 1250
        run.status = "completed"
        views.status_message("run1-gru", run)

    at = AppTest.from_function(page).run()
    no_exception(at)
    assert "completed after 1,250 steps" in at.success[0].value


def test_compare_curves_leave_out_the_n_gram_fit_and_say_why():
    import json
    from types import SimpleNamespace

    from helpers import untrained_run

    from nameclf.classify.config import ModelConfig
    from nameclf.classify.pipeline import Run

    gru = untrained_run()
    gru.history = dict(step=[1, 2], loss=[1.0, 0.5], running_loss=[1.0, 0.7], eval_step=[2],
                       top1=[0.5], top2=[0.6])
    ngram = Run(SimpleNamespace(config=ModelConfig(cell="ngram", vocab_size=30, n_classes=3)),
                gru.vocab, gru.classes, gru.train_config, info={"steps": 37},
                history=dict(step=[37], loss=[0.4], running_loss=[0.4], eval_step=[37],
                             top1=[0.6], top2=[0.7]))
    at = compare_with({"run1-gru": gru, "run2-ngram": ngram})
    no_exception(at)
    for chart in at.get("plotly_chart"):  # one point of the fit: a legend entry and no line
        names = [trace.get("name") for trace in json.loads(chart.proto.spec)["data"]]
        assert "run2-ngram" not in names and "run1-gru" in names
    assert any("run2-ngram: the n-gram baseline fits in one go" in c.value for c in at.caption)
    assert not any("loaded from a checkpoint" in c.value for c in at.caption)
    assert_no_toolbar(at)


def test_sidebar_sorts_pages_by_number_not_as_text(tmp_path, monkeypatch):
    """`10_` comes after `9_` (as text it would come before `2_`); unnumbered files go last."""
    from nameclf.ui import nav

    (tmp_path / "pages").mkdir()
    for name in ["10_Ten.py", "2_Two.py", "9_Nine_words.py", "0_Zero.py", "Extra.py"]:
        (tmp_path / "pages" / name).write_text("")
    monkeypatch.setattr(nav, "ROOT", tmp_path)
    assert nav.pages() == [("pages/0_Zero.py", "Zero"), ("pages/2_Two.py", "Two"),
                           ("pages/9_Nine_words.py", "Nine words"), ("pages/10_Ten.py", "Ten"),
                           ("pages/Extra.py", "Extra")]
