"""The Generate and Padding-the-targets pages, driven through AppTest on a tiny dataset."""

import re
import time

from nameclf.classify.config import ModelConfig, TrainConfig
from nameclf.classify.pipeline import fit, prepare
from nameclf.data.dataset import load_bytes
from tests.conftest import app, no_exception, use_tiny

GEN = "pages/8_Generate.py"
TARGETS = "pages/9_Padding_the_targets.py"


def generate_page(raw: bytes, epochs: float = 2.0):
    at = use_tiny(app(GEN), raw).run()
    at.selectbox(key="gw_preset").set_value("gen-tiny").run()
    at.number_input(key="gw_epochs_gen-tiny").set_value(epochs).run()
    return at


def wait_for_gen(at, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        job = at.session_state["gen_job"] if "gen_job" in at.session_state else None  # noqa: SIM401
        if job is not None and job.done and job.meta.collected:
            return at.run()
        time.sleep(0.3)
    raise AssertionError("the generator job did not finish in time")


def test_without_a_generator_the_page_says_what_to_do(tiny_bytes):
    at = use_tiny(app(GEN), tiny_bytes).run()
    no_exception(at)
    assert any("No generator yet" in i.value for i in at.info)
    assert not at.button(key="gen_start").disabled and at.button(key="gen_stop").disabled
    assert at.radio(key="gw_cell_gen-fast").value == "lstm"  # each preset sets its widgets
    assert at.radio(key="gw_batching_gen-fast").value == "padded"
    at.selectbox(key="gw_preset").set_value("gen-tiny").run()
    assert at.radio(key="gw_cell_gen-tiny").value == "gru"
    assert at.radio(key="gw_batching_gen-tiny").value == "packed"


def test_train_then_generate_names_judged_by_novelty(tiny_bytes):
    at = generate_page(tiny_bytes)
    at.button(key="gen_start").click().run()
    assert at.button(key="gen_start").disabled  # no second trainer while it runs
    wait_for_gen(at)
    no_exception(at)
    (run,) = at.session_state["gen_runs"].values()
    assert run.status == "completed"
    assert any("completed after" in s.value for s in at.success)
    labels = [m.label for m in at.metric]
    assert labels[:2] == ["Test bits per character", "n-gram LM baseline"]
    assert "Novelty" in labels
    table = at.dataframe[0].value
    assert len(table) == 12 and set(table["new"]) <= {"yes", "a training name"}
    at.number_input(key="gs_n").set_value(5).run()
    at.text_input(key="gs_prefix").set_value("Ba").run()
    names = list(at.dataframe[0].value["name"])
    assert len(names) == 5 and all(n.startswith("Ba") for n in names)
    at.run()
    assert list(at.dataframe[0].value["name"]) == names  # seeded: same names
    assert any("Train a classifier" in i.value for i in at.info)


def test_a_classifier_run_judges_the_samples(tiny_bytes):
    at = generate_page(tiny_bytes)
    ds = load_bytes(tiny_bytes, "tiny.txt")
    prep = prepare(ds, "names", seed=0)
    judge = fit(prep, ModelConfig(cell="gru", embedding_dim=8, hidden_size=16),
                TrainConfig(steps=30, epochs=0, batch_size=16, eval_every=0))
    at.session_state["runs"] = {"run1-gru": judge}
    at.session_state["run_data"] = {"run1-gru": (ds, "names", 0)}
    at.button(key="gen_start").click().run()
    wait_for_gen(at)
    no_exception(at)
    labels = [m.label for m in at.metric]
    assert "Agreement" in labels and "run1-gru on real test names" in labels
    table = at.dataframe[0].value
    assert set(table["classifier says"]) <= set(ds.classes)


def test_a_mixed_generator_shows_the_net_alone_and_samples_from_the_mixture(tiny_bytes):
    at = generate_page(tiny_bytes)
    assert at.slider(key="gw_mix_gen-tiny").value == 0.0  # gen-tiny: the net alone
    at.slider(key="gw_mix_gen-tiny").set_value(0.3).run()
    at.button(key="gen_start").click().run()
    wait_for_gen(at)
    no_exception(at)
    (run,) = at.session_state["gen_runs"].values()
    assert run.ngram is not None and run.ngram_weight == 0.3
    shown = {m.label: m.value for m in at.metric}
    assert shown["The GRU alone"] == f"{run.metrics['net_bits_per_char']:.3f}"
    assert shown["Test bits per character"] == f"{run.metrics['test_bits_per_char']:.3f}"
    assert any("mixed with it (weight 0.3)" in c.value for c in at.caption)
    assert any("n-gram LM mixed (weight 0.3)" in c.value for c in at.caption)


def test_stop_keeps_a_usable_stopped_generator(tiny_bytes):
    at = generate_page(tiny_bytes, epochs=50.0)
    at.button(key="gen_start").click().run()
    at.button(key="gen_stop").click().run()
    wait_for_gen(at, timeout=60)
    no_exception(at)
    (run,) = at.session_state["gen_runs"].values()
    assert run.status == "stopped"
    assert any("stopped after" in w.value for w in at.warning)


def test_the_walkthrough_shows_every_step_with_the_masked_and_packed_loss(tiny_bytes):
    at = use_tiny(app(TARGETS), tiny_bytes).run()
    no_exception(at)
    heads = [h.value for h in at.subheader]
    assert heads[0].startswith("Step 1") and heads[-1].startswith("Step 5")
    text = " ".join(m.value for m in at.markdown)
    assert "ignore_index=0" in text and "the masked loss to the last digit" in text
    assert any("untrained generator" in c.value for c in at.caption)
    assert not re.search(r"\*\*0\*\* padding", text)  # the first names differ in length
    at.text_input(key="ge_names").set_value("Ab, Cde").run()
    no_exception(at)
    assert "**1** padding" in " ".join(m.value for m in at.markdown)  # 3 + 4 real cells of 8


def test_the_walkthrough_refuses_bad_names_with_a_message(tiny_bytes):
    at = use_tiny(app(TARGETS), tiny_bytes).run()
    at.text_input(key="ge_names").set_value(" , ").run()
    no_exception(at)
    assert any("at least one name" in e.value for e in at.error)
    at.text_input(key="ge_names").set_value("x" * 30).run()
    assert any("at most 8 names" in e.value for e in at.error)


def generator_training():
    """A generator job of this visitor that runs until stopped."""
    from nameclf.serve.jobs import Job

    return Job(lambda report, stop: stop.wait(60), name="gen1-gru").start()


def started(at):
    """The visitor's classifier job, if one was started."""
    return at.session_state["job"] if "job" in at.session_state else None  # noqa: SIM401


def test_train_and_compare_refuse_to_start_while_the_visitors_generator_trains(tiny_bytes):
    job = generator_training()
    try:
        for page, button in (("pages/2_Train.py", "train_start"),
                             ("pages/5_Compare.py", "compare_start")):
            at = use_tiny(app(page), tiny_bytes)
            at.session_state["gen_job"] = job
            at.run()
            assert at.button(key=button).disabled, page  # Start says so before any click
            told = " ".join(m.value for m in [*at.info, *at.error])
            assert "Your generator gen1" in told and "still training on Generate" in told, page
            no_exception(at)
            assert started(at) is None, page  # nothing started
        at = use_tiny(app("pages/2_Train.py"), tiny_bytes)  # Home's recommended button
        at.session_state["gen_job"] = job
        at.session_state["train_on_arrival"] = True
        at.run()
        assert any("still training on Generate" in e.value for e in at.error)
        assert started(at) is None
    finally:
        job.stop()
    at = use_tiny(app("pages/2_Train.py"), tiny_bytes)  # once it has ended, Train starts
    at.session_state["gen_job"] = job
    at.run()
    deadline = time.monotonic() + 10
    while job.running and time.monotonic() < deadline:
        time.sleep(0.05)
    at.button(key="train_start").click().run()
    no_exception(at)
    assert started(at) is not None and not at.error


def test_one_job_per_visitor_between_the_speed_race_and_generate(tiny_bytes):
    """A race and a generator of one visitor never run at once, whichever started first."""
    job = generator_training()
    try:
        race = use_tiny(app("pages/7_Speed_race.py"), tiny_bytes)
        race.session_state["gen_job"] = job
        race.run()
        no_exception(race)
        assert race.button(key="race_start").disabled
        assert any("Your generator gen1" in m.value for m in race.info)
    finally:
        job.stop()
    racing = generator_training()  # a race of this visitor, as nameclf.ui.race keeps it
    try:
        gen = use_tiny(app("pages/8_Generate.py"), tiny_bytes)
        gen.session_state["race_job"] = {"job": racing, "setup": {}}
        gen.run()
        no_exception(gen)
        assert gen.button(key="gen_start").disabled
    finally:
        racing.stop()


def test_a_new_generator_is_the_one_shown_and_explained(tiny_bytes):
    at = generate_page(tiny_bytes, epochs=1.0)
    at.button(key="gen_start").click().run()
    wait_for_gen(at)
    assert at.selectbox(key="gs_run").value == "gen1-gru"
    at.button(key="gen_start").click().run()
    wait_for_gen(at)
    assert at.selectbox(key="gs_run").value == "gen2-gru"  # not the one picked before
    at.selectbox(key="gs_run").set_value("gen1-gru").run()
    targets = use_tiny(app(TARGETS), tiny_bytes)  # the walkthrough reads the one chosen
    targets.session_state["gen_runs"] = at.session_state["gen_runs"]
    targets.session_state["gen_chosen"] = at.session_state["gen_chosen"]
    targets.run()
    assert any("your generator gen1" in c.value for c in targets.caption)  # not gen2


def test_the_live_line_never_says_0_s_left():
    from nameclf.generate.train import GenProgress
    from nameclf.ui.generate import progress_text

    tick = GenProgress(step=40, total_steps=50, loss=1.0, running_loss=1.0,
                       names_per_second=900.0, elapsed=2.0, eta=0.3, lr=0.01)
    assert progress_text(tick) == "step 40/50 · 900 names/s · under a second left"
    tick.eta = 12.4
    assert progress_text(tick).endswith("about 12 s left")
    tick.step = 50
    assert progress_text(tick) == "step 50/50 · measuring it on the test names…"


def test_the_verdict_is_computed_from_the_runs_figures():
    from nameclf.ui.generate import verdict

    m = {"baseline_bits_per_char": 2.62, "net_bits_per_char": 2.63, "test_bits_per_char": 2.52,
         "baseline": "Kneser-Ney 5-gram LM"}
    text = verdict(m, "LSTM", 0.5, 3582)
    assert "LSTM alone does not beat the n-gram baseline (2.630 against 2.620)" in text
    assert "weight 0.5) the generator reaches 2.520, better than either alone" in text
    assert "3,582 test names" in text
    between = verdict({**m, "net_bits_per_char": 2.66, "test_bits_per_char": 2.64}, "LSTM", 0.2, 9)
    assert "reaches 2.640, better than the LSTM alone, not than the n-gram LM" in between
    worse = verdict({**m, "test_bits_per_char": 2.7}, "LSTM", 0.2, 9)
    assert "worse than both alone" in worse
    alone = verdict({**m, "net_bits_per_char": 2.5, "test_bits_per_char": 2.5}, "GRU", 0.0, 10)
    assert "GRU alone beats" in alone and "mixed" not in alone


def test_the_baseline_is_a_legend_entry_not_text_on_the_curve():
    from nameclf.charts.generate import bpc_curve

    fig = bpc_curve({"step": [1, 50, 100], "running_loss": [3.0, 2.0, 1.5],
                     "eval_step": [50, 100], "test_bpc": [2.9, 2.5]}, baseline=2.66)
    line = fig.data[-1]
    assert line.name == "n-gram LM 2.660" and list(line.x) == [1, 100]
    assert list(line.y) == [2.66, 2.66] and not fig.layout.annotations
    mixed = bpc_curve({"step": [1, 100], "running_loss": [3.0, 1.5], "eval_step": [100],
                       "test_bpc": [2.6]}, baseline=2.66, mixed=2.55).data[-1]
    assert mixed.name == "net + n-gram LM 2.550" and list(mixed.x) == [100]
