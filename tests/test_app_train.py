"""Training from the app: to completion, stopped, shared by URL, saved and loaded again."""


from tests.conftest import (
    TINY,
    app,
    no_exception,
    same_session,
    train_page,
    use_tiny,
    wait_for_job,
)
from tests.helpers import assert_no_toolbar


def test_a_short_run_completes_and_lands_in_the_history_once(tiny_bytes):
    at = train_page(tiny_bytes)
    no_exception(at)
    at.button(key="train_start").click().run()
    assert at.button(key="train_start").disabled  # no second trainer while it runs
    wait_for_job(at)
    no_exception(at)
    runs = at.session_state["runs"]
    assert list(runs) == ["run1-gru"] and runs["run1-gru"].status == "completed"
    assert any("completed after 30 steps" in s.value for s in at.success)
    assert [m.label for m in at.metric][:2] == ["Top-1", "Top-2"]
    assert_no_toolbar(at)  # the run's loss and accuracy curves
    at.run().run()
    assert len(at.session_state["runs"]) == 1  # reruns never add it again
    assert not at.button(key="train_start").disabled


def test_stop_in_the_middle_keeps_a_usable_stopped_run(tiny_bytes):
    at = train_page(tiny_bytes, steps="20000")
    at.button(key="train_start").click().run()
    at.button(key="train_stop").click().run()
    wait_for_job(at, timeout=30)
    no_exception(at)
    (run,) = at.session_state["runs"].values()
    assert run.status == "stopped" and run.info["steps"] < 20000
    assert any("stopped after" in w.value for w in at.warning)


def test_settings_round_trip_through_the_url(tiny_bytes):
    at = train_page(tiny_bytes, cell="lstm", lr="0.02", hidden="64", dropout="0.2")
    no_exception(at)
    assert at.radio(key="tw_cell").value == "lstm"
    assert at.select_slider(key="tw_lr").value == 0.02
    at.select_slider(key="tw_hidden").set_value(128).run()
    at.radio(key="tw_opt").set_value("sgd").run()
    link = dict(at.query_params)
    assert link["hidden"] == "128" and link["opt"] == "sgd" and link["cell"] == "lstm"
    again = use_tiny(app("pages/2_Train.py"), tiny_bytes)
    again.query_params.update(link)
    again.run()
    assert again.session_state["train_values"] == at.session_state["train_values"]


def test_a_preset_sets_every_widget(tiny_bytes):
    at = train_page(tiny_bytes)
    at.selectbox(key="tw_preset").set_value("seed-rnn").run()
    no_exception(at)
    widgets = {key: at.session_state[f"tw_{key}"] for key in
               ("cell", "emb", "hidden", "opt", "lr", "batch", "budget", "steps", "split")}
    assert widgets == dict(cell="rnn", emb=0, hidden=128, opt="sgd", lr=0.15, batch=512,
                           budget="steps", steps=5000, split="rows")
    assert at.query_params["preset"] == "seed-rnn" and at.query_params["lr"] == "0.15"


def test_hostile_url_values_show_notes_and_never_crash(tiny_bytes):
    at = train_page(tiny_bytes, hidden="1e308", lr="-1", layers="<script>", dataset="upload")
    no_exception(at)
    notes = " ".join(w.value for w in at.warning)
    assert "hidden" in notes and "lr" in notes and "layers" in notes
    assert at.select_slider(key="tw_hidden").value == 512


def test_padded_batching_with_bidirectional_is_refused_clearly(tiny_bytes):
    at = train_page(tiny_bytes, batching="padded", bidir="1")
    no_exception(at)
    assert any("bidirectional" in e.value for e in at.error)
    assert at.button(key="train_start").disabled


def test_a_diverged_run_says_so_and_keeps_its_model(tiny_bytes, monkeypatch):
    import importlib

    import torch

    train = importlib.import_module("nameclf.classify.train")  # the module, not nameclf.train
    monkeypatch.setattr(train, "batch_loss", lambda *args: torch.tensor(float("nan")))
    at = train_page(tiny_bytes)
    at.button(key="train_start").click().run()
    wait_for_job(at)
    no_exception(at)
    (run,) = at.session_state["runs"].values()
    assert run.status == train.DIVERGED
    assert any("diverged — lower the learning rate" in e.value for e in at.error)
    assert at.metric[0].label == "Top-1"


def test_checkpoint_download_then_upload_on_predict(tiny_bytes, served):
    at = train_page(tiny_bytes)
    at.button(key="train_start").click().run()
    wait_for_job(at)
    assert "run1-gru.safetensors" in served
    predict = app("pages/4_Predict.py").run()
    predict.file_uploader(key="predict_checkpoint").set_value(
        ("run1-gru.safetensors", served["run1-gru.safetensors"], "application/octet-stream"))
    predict.run()
    no_exception(predict)
    assert "run1-gru" in predict.session_state["runs"]
    predict.text_area(key="predict_text").input("Kowalski\n\n12345\n😀😀\n" + "x" * 300).run()
    no_exception(predict)
    notes = " ".join(i.value for i in predict.info)
    assert "no known characters" in notes and "cut to its first" in notes
    assert len(predict.get("plotly_chart")) == 5  # four names' bars, one name per prefix
    predict.text_area(key="predict_text").input("").run()
    no_exception(predict)
    assert any("empty name" in i.value for i in predict.info)

    tampered = served["run1-gru.safetensors"].replace(b"nameclf-checkpoint", b"nameclf-checkpoinX")
    other = app("pages/3_Evaluate.py").run()
    other.file_uploader(key="eval_checkpoint").set_value(("t.safetensors", tampered, "x")).run()
    no_exception(other)
    assert any("not written by nameclf" in e.value for e in other.error)

    evaluate = use_tiny(app("pages/3_Evaluate.py"), tiny_bytes).run()  # its data is loaded
    evaluate.file_uploader(key="eval_checkpoint").set_value(
        ("run1-gru.safetensors", served["run1-gru.safetensors"], "application/octet-stream"))
    evaluate.run()
    no_exception(evaluate)
    assert not evaluate.warning and not evaluate.error
    assert evaluate.metric[0].label == "Top-1" and evaluate.caption


def test_a_foreign_checkpoint_is_refused():
    at = app("pages/4_Predict.py").run()
    at.file_uploader(key="predict_checkpoint").set_value(
        ("weights.safetensors", b"\x10\x00\x00\x00\x00\x00\x00\x00{}" + b" " * 14, "x")).run()
    no_exception(at)
    assert any("weights.safetensors" in e.value for e in at.error)
    assert at.session_state["runs"] == {}



def test_evaluate_and_compare_a_finished_run(tiny_bytes):
    at = train_page(tiny_bytes)
    at.button(key="train_start").click().run()
    wait_for_job(at)
    at = same_session(at, "pages/3_Evaluate.py").run()
    no_exception(at)
    assert at.metric[0].label == "Top-1"
    n_test = at.session_state["runs"]["run1-gru"].info["n_test"]
    assert at.caption[1].value == f"Measured on all {n_test:,} test names (names split, seed 1)."
    assert len(at.get("plotly_chart")) == 1  # the confusion matrix
    assert len(at.dataframe) == 4  # per label, most confused, mistakes, a confusion cell's names
    at = same_session(at, "pages/5_Compare.py").run()
    no_exception(at)
    assert at.multiselect(key="compare_runs").value == ["run1-gru"]
    assert at.dataframe[0].value["cell"].tolist() == ["gru"]


def test_evaluate_says_how_high_top1_can_go_when_test_names_carry_two_labels(tiny_bytes):
    from nameclf.data.dataset import load_bytes
    from nameclf.data.splits import make_split, top1_ceiling

    twice = "".join(f"\nTwin{i:02d}ez, Ez\nTwin{i:02d}ez, Son" for i in range(40))
    raw = tiny_bytes + twice.encode()
    at = train_page(raw)
    at.button(key="train_start").click().run()
    wait_for_job(at)
    at = same_session(at, "pages/3_Evaluate.py").run()
    no_exception(at)
    ds = load_bytes(raw, "tiny.txt")
    test = make_split(ds, "names", seed=1).test
    shared = sum(ds.names[i].startswith("Twin") for i in test)
    ceiling = top1_ceiling(ds, test)
    assert shared > 0 and ceiling == 1 - shared / 2 / len(test)  # one of each pair can be right
    assert at.caption[1].value == (
        f"Measured on all {len(test):,} test names (names split, seed 1). {shared:,} of them "
        "share their name with a test row of another label; a model gives one answer per name, "
        f"so no model can score above {ceiling:.1%} top-1 here.")


def test_compare_trains_rnn_lstm_and_gru_in_one_job(tiny_bytes):
    at = use_tiny(app("pages/5_Compare.py"), tiny_bytes)
    at.query_params.update(TINY)  # a shared link's settings, read on the first request
    at.run()
    at.slider(key="compare_steps").set_value(50).run()
    at.checkbox(key="compare_ngram").uncheck().run()  # the baseline: see test_app_ngram.py
    assert any("Like for like" in c.value and "exactly **50 steps**" in c.value
               for c in at.caption)  # the page says which terms are equal
    settings = next(c.value for c in at.caption if "Like for like" in c.value)
    assert "the uploaded file `tiny.txt`" in settings and "`upload`" not in settings
    at.button(key="compare_start").click().run()
    wait_for_job(at, timeout=120)
    no_exception(at)
    runs = at.session_state["runs"]
    assert list(runs) == ["run1-rnn", "run2-lstm", "run3-gru"]
    assert at.multiselect(key="compare_runs").value == ["run1-rnn", "run2-lstm", "run3-gru"]
    # the same number of steps for every cell, with no time limit: the time is the result
    assert [r.info["steps"] for r in runs.values()] == [50, 50, 50]
    assert {r.status for r in runs.values()} == {"completed"}
    assert {r.train_config.time_budget for r in runs.values()} == {0.0}


def start_compare(raw: bytes, steps: int):
    """Compare on the tiny data with this many steps per recurrent model, started."""
    at = use_tiny(app("pages/5_Compare.py"), raw)
    at.query_params.update(TINY)
    at.run()
    at.slider(key="compare_steps").set_value(steps).run()
    at.button(key="compare_start").click().run()
    return at, at.session_state["job"]


def test_compares_ngram_fit_shows_it_is_working_never_0_s_left(tiny_bytes, monkeypatch):
    from tests.helpers import silent_children

    children = silent_children(monkeypatch)  # the n-gram fit does not answer until stopped
    at, job = start_compare(tiny_bytes, 50)
    try:
        while not children and not job.done:  # the three cells train, then the fit starts
            job.join(0.05)
        assert children, "the n-gram fit never started"
        at.run()
        text = " ".join(p.proto.text for p in at.get("progress"))
        assert "ngram (4/4) · fitting the n-gram baseline in one go" in text, text
        assert "75% of the whole job · " in text and text.endswith("s so far…"), text
        assert "0 s left" not in text
        bar = at.get("progress")[0].proto.value
        assert bar >= 75  # three of four models done: the bar says so
    finally:
        job.stop()
        job.join(60)


def test_compares_bar_is_the_whole_jobs_progress_and_says_so(tiny_bytes):
    import re
    import time

    at, job = start_compare(tiny_bytes, 3000)
    try:
        seen = None
        deadline = time.monotonic() + 90
        while seen is None and time.monotonic() < deadline:
            at.run()
            for bar in at.get("progress"):
                found = re.search(r"(\w+) \((\d)/4\) · step ([\d,]+)/3,000", bar.proto.text)
                if found and int(found.group(3).replace(",", "")) < 3000:
                    seen = found, bar.proto
            time.sleep(0.2)
        assert seen is not None, "no step of the race was shown"
        found, bar = seen
        model, step = int(found.group(2)) - 1, int(found.group(3).replace(",", ""))
        share = (model + step / 3000) / 4  # the cells before, and this one's steps
        assert bar.value == int(share * 100)
        assert f"{int(share * 100)}% of the whole job" in bar.text  # said in words too
        assert "left for this model" in bar.text  # its time left is this cell's, not the job's
        assert_no_toolbar(at)  # the live curves
    finally:
        job.stop()
        job.join(60)


def test_a_link_to_a_dataset_that_cannot_be_downloaded_falls_back(monkeypatch, tmp_path):
    import urllib.error
    import urllib.request

    from nameclf.ui import cache

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(cache, "DATA_DIR", tmp_path)
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    at = app("pages/2_Train.py")
    at.query_params.update(dataset="builtin:pytorch-names", cell="rnn")
    at.run()
    no_exception(at)
    assert any("could not be loaded" in w.value for w in at.warning)
    assert at.session_state["dataset_source"] == "builtin:faker-surnames"
    assert at.radio(key="tw_cell").value == "rnn"
    assert at.query_params["dataset"] == "builtin:faker-surnames"


def test_a_busy_server_queues_the_job_and_stop_leaves_the_queue(tiny_bytes):
    import threading

    from nameclf.ui.cache import training_slots

    slots, busy = training_slots(), threading.Event()
    held = [object() for _ in range(slots.limit)]  # other visitors' trainings
    for other in held:
        assert slots.acquire(id(other), busy)
    try:
        at = train_page(tiny_bytes)
        at.button(key="train_start").click().run()
        assert "number 1 in the queue" in at.get("progress")[0].proto.text
        at.button(key="train_stop").click().run()
        wait_for_job(at, timeout=30)
        no_exception(at)
        assert at.session_state["runs"] == {}
        assert any("Nothing was trained" in i.value for i in at.info)
    finally:
        for other in held:
            slots.release(id(other))


def in_page_order(node) -> list:
    """Every element of an AppTest tree, in the order the page shows them."""
    children = getattr(node, "children", None)
    if not children:
        return [node]
    return [e for key in sorted(children) for e in in_page_order(children[key])]


def test_homes_recommended_button_starts_training_with_progress_above_the_settings():
    from nameclf.ui.cache import forget_server_wide

    forget_server_wide("run_store", "shared_runs")  # no earlier identical run to be given
    at = app("streamlit_app.py").run()
    at.button(key="home_train").click().run()
    no_exception(at)
    job = at.session_state["job"]
    try:
        assert job is not None and job.meta.kind == "train"  # training, not just the page
        assert at.session_state["train_values"]["preset"] == "fast"
        elements = in_page_order(at.main)
        kinds = [e.type for e in elements]
        first_setting = next(i for i, e in enumerate(elements)
                             if getattr(e, "key", None) == "tw_preset")
        assert "progress" in kinds[:first_setting]  # in view without scrolling past the form
        assert kinds.index("button") < first_setting  # Start and Stop too
        at.run()
        assert at.session_state["job"] is job  # a rerun of Train starts nothing more
    finally:
        job.stop()
        job.join(60)
