"""The Batch size & gradients page: measuring without a run, measuring a visitor's run, the
batch-size race with Stop, one job per visitor, and the link from Train's loss chart."""

import time

from streamlit.testing.v1 import AppTest

from nameclf.ui import gradients
from tests.conftest import app, no_exception, same_session, train_page, use_tiny, wait_for_job

PAGE = "pages/10_Batch_size_and_gradients.py"


def wait_for_grad_job(at: AppTest, timeout: float = 120.0) -> AppTest:
    """Re-run the page until the gradient job is over and its result collected."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        if not at.session_state[gradients.KEY_JOB]:
            return at.run()
        time.sleep(0.3)
    raise AssertionError("the gradient job did not finish in time")


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_without_a_run_measure_trains_a_quick_model_first(tiny_bytes):
    at = use_tiny(app(PAGE), tiny_bytes).run()
    no_exception(at)
    assert any("no trained recurrent model yet" in m.value for m in at.markdown)
    assert any("No race yet" in i.value for i in at.info)
    at.select_slider(key="gn_pool").set_value(512)
    at.select_slider(key="gn_draws").set_value(8)
    at.button(key="gn_start").click().run()
    assert at.button(key="gn_start").disabled  # while it measures
    at = wait_for_grad_job(at)
    no_exception(at)
    result = at.session_state[gradients.KEY_NOISE]
    labels = list(result["curves"])
    assert labels[0] == "at init" and labels[1].startswith("after ")
    shown = metrics(at)
    for label in labels:  # each B_simple tile shows its measurement's figure, rounded
        bs = result["curves"][label]["b_simple"]
        assert shown[f"B_simple, {label}"] == (f"{bs:,.0f}" if bs == bs else "—")
    # the tiny file's 130 training names: the pool is all of them, said once
    assert any("the pool is all of them" in c.value for c in at.caption)
    assert any(m.value.startswith("**at init**: slope") for m in at.markdown)


def test_measure_uses_the_visitors_latest_run(tiny_bytes):
    trained = wait_for_job(train_page(tiny_bytes).button(key="train_start").click().run())
    at = same_session(trained, PAGE).run()
    run_id = next(reversed(at.session_state["runs"]))
    line = f"Measures your latest recurrent run, **{run_id}**"
    assert any(line in m.value for m in at.markdown)
    before = [p.detach().clone() for p in at.session_state["runs"][run_id].model.parameters()]
    at.select_slider(key="gn_draws").set_value(8)
    at.button(key="gn_start").click().run()
    at = wait_for_grad_job(at)
    no_exception(at)
    curves = at.session_state[gradients.KEY_NOISE]["curves"]
    assert list(curves) == ["at init", f"trained ({run_id})"]
    after = list(at.session_state["runs"][run_id].model.parameters())
    assert all((a == b).all() for a, b in zip(before, after, strict=True))  # untouched


def test_the_race_reports_each_batch_size_and_can_be_stopped(tiny_bytes):
    at = use_tiny(app(PAGE), tiny_bytes).run()
    at.multiselect(key="br_sizes").set_value([4, 32])
    at.select_slider(key="br_seconds").set_value(10)
    at.button(key="br_start").click().run()
    assert at.button(key="gn_start").disabled  # one job per visitor
    at = wait_for_grad_job(at)
    no_exception(at)
    result = at.session_state[gradients.KEY_RACE]
    assert [lane["batch_size"] for lane in result["lanes"]] == [4, 32]
    table = next(d.value for d in at.dataframe if "batch size" in d.value.columns)
    assert list(table["batch size"]) == [4, 32]
    assert list(table["result"]) == [lane["status"] for lane in result["lanes"]]
    assert any(c.value.startswith("Target held-out loss") for c in at.caption)

    at.multiselect(key="br_sizes").set_value([1])
    at.select_slider(key="br_seconds").set_value(60)
    at.button(key="br_start").click().run()
    time.sleep(1.0)
    at.run()
    at.button(key="br_stop").click().run()
    warnings = []
    deadline = time.monotonic() + 60
    while at.session_state[gradients.KEY_JOB] and time.monotonic() < deadline:
        time.sleep(0.3)
        warnings += [w.value for w in at.run().warning]
    no_exception(at)
    race = at.session_state[gradients.KEY_RACE]
    # stopped while the target run trained (no result), or in its lane (the lane says so)
    assert warnings == ["The batch-size race was stopped before it had a result."] or (
        [lane["status"] for lane in race["lanes"]] == ["stopped"])


def test_no_batch_size_chosen_is_a_line_not_an_error(tiny_bytes):
    at = use_tiny(app(PAGE), tiny_bytes).run()
    at.multiselect(key="br_sizes").set_value([])
    at.run()
    no_exception(at)
    assert any("Choose at least one batch size" in i.value for i in at.info)
    assert at.button(key="br_start").disabled


def test_trains_loss_chart_links_here(tiny_bytes):
    trained = wait_for_job(train_page(tiny_bytes).button(key="train_start").click().run())
    assert any("Why the thin line is noisy" in c.value for c in trained.caption)
