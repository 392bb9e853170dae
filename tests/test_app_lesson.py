"""AppTests of the Lesson page: every chapter from its own address, answers, feedback, reveals.

The names are Ram, Shyam, Al (lengths 3, 5, 2): a (5, 3) grid with 5 `<pad>` cells,
`sorted_indices` [1, 0, 2], `batch_sizes` [3, 3, 2, 1, 1] and 13 generator targets.
"""

import time

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT, no_exception, use_tiny

LESSON = str(ROOT / "pages/0_Lesson.py")
NAMES = "Ram,Shyam,Al"
RACE = {"names": 32, "batch": 32, "seconds": 0.3, "hidden": 16}
TRAIN = {"budget": "steps", "steps": 40, "hidden": 16, "emb": 8, "batch": 16}


def lesson(tiny_bytes: bytes, **query) -> AppTest:
    at = use_tiny(AppTest.from_file(LESSON, default_timeout=120), tiny_bytes)
    at.session_state["lesson_race"] = RACE
    at.session_state["lesson_train"] = TRAIN
    at.query_params.update({"names": NAMES, **query})
    at.run()
    no_exception(at)
    return at


def answer(at: AppTest, qid: str, value) -> AppTest:
    """Type or pick an answer and press Check."""
    if at.radio(key=f"lesson_in_{qid}") if _has(at, "radio", qid) else None:
        at.radio(key=f"lesson_in_{qid}").set_value(value).run()
    else:
        at.number_input(key=f"lesson_in_{qid}").set_value(value).run()
    at.button(key=f"lesson_check_{qid}").click().run()
    no_exception(at)
    return at


def _has(at: AppTest, kind: str, qid: str) -> bool:
    return any(w.key == f"lesson_in_{qid}" for w in getattr(at, kind))


def text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [e.value for e in (*at.success, *at.error, *at.info, *at.warning)]
    return "\n".join(parts)


def wait_until(at: AppTest, done, timeout: float = 120.0) -> AppTest:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        no_exception(at)
        if done(at):
            return at
        time.sleep(0.5)
    raise AssertionError("the lesson's measurement did not finish in time")


def test_chapter1_wrong_then_right(tiny_bytes):
    at = lesson(tiny_bytes, ch="1")
    assert at.subheader[0].value == "Chapter 1 · One name → indices → one-hot"
    assert not at.code, "the code (with this batch's numbers) waits for the answers"
    answer(at, "1a", 0)  # (B, T, V): batch_first
    assert "batch_first=True" in at.error[0].value
    assert at.query_params["a"] == "1a:0"
    at.button(key="lesson_retry_1a_btn").click().run()
    answer(at, "1a", 1)
    assert at.success[0].value.startswith("**Right: time × names × tokens: (5, 3,")
    assert "Your first answer" in at.success[0].value
    assert at.query_params["a"] == "1a:0/1"
    answer(at, "1b", 15)  # every cell of the grid
    assert "all-zero row" in at.error[0].value
    at.button(key="lesson_retry_1b_btn").click().run()
    answer(at, "1b", 10)
    assert {m.label: m.value for m in at.metric}["1s in x (x.sum())"] == "10"
    assert at.code and "vocab.encode('Ram')" in at.code[0].value
    assert at.button(key="lesson_go_1").label.startswith("✓ 1")


def test_chapter2_padding_and_skip(tiny_bytes):
    at = lesson(tiny_bytes, ch="2")
    answer(at, "2a", 5)
    assert "**Right: 5.**" in at.success[0].value
    assert {m.label: m.value for m in at.metric}["<pad> cells"] == "5"
    at.button(key="lesson_skip_2b").click().run()
    assert "Skipped. The answer:" in at.info[0].value
    assert "With random batches of **512** names" in text(at)
    assert at.query_params["a"] == "2a:5~2b:-"


def test_chapter3_sorting(tiny_bytes):
    at = lesson(tiny_bytes, ch="3")
    q = at.radio(key="lesson_in_3a")
    answer(at, "3a", q.options.index("[1, 0, 2]"))
    assert at.success and "`sorted_indices` = **[1, 0, 2]**" in text(at)
    answer(at, "3b", 0)  # Ram's typed position
    assert "is where `Ram` was typed" in at.error[0].value
    at.button(key="lesson_skip_3b").click().run()
    assert "`unsorted_indices` = **[1, 0, 2]**" in text(at)


def test_chapter4_step_control_and_readout(tiny_bytes):
    at = lesson(tiny_bytes, ch="4")
    answer(at, "4a", 2)
    assert "`batch_sizes` = **[3, 3, 2, 1, 1]**" in text(at)
    at.slider(key="explainer_t").set_value(3).run()  # the step control
    assert "`batch_sizes[3]` = **1**" in text(at)
    answer(at, "4b", 0)  # output[-1]
    assert "`<pad>` steps" in at.error[0].value
    at.button(key="lesson_retry_4b_btn").click().run()
    answer(at, "4b", 2)
    answer(at, "4c", 2)
    assert "Packed vs one name at a time" in {m.label for m in at.metric}
    assert at.code and "batch_sizes" in at.code[0].value


def test_chapter5_the_race_answers(tiny_bytes):
    at = lesson(tiny_bytes, ch="5")
    answer(at, "5a", 0)
    assert "kept" in at.info[0].value
    answer(at, "5b", 1)
    wait_until(at, lambda a: bool(a.success or a.error) and not a.session_state["race_job"])
    assert "Your race:" in text(at)
    assert "packed ÷ per-sample" in {m.label for m in at.metric}
    assert at.query_params["a"] == "5a:0~5b:1"


def test_chapter6_the_gradient_noise_answers():
    from nameclf.ui.cache import forget_server_wide

    forget_server_wide("lesson_noise")
    at = AppTest.from_file(LESSON, default_timeout=120)  # the built-in data: 512 names fit
    at.session_state["lesson_noise"] = {"pool": 512, "draws": 8}
    at.query_params.update({"names": NAMES, "ch": "6"})
    at.run()
    no_exception(at)
    answer(at, "6a", 3)  # larger
    assert "kept" in at.info[0].value
    answer(at, "6b", 3)  # 8x too large
    wait_until(at, lambda a: "8 × 64 accumulated vs one 512" in {m.label for m in a.metric})
    assert "the mean divides by B" in at.error[0].value
    assert "the 8 parts sum to the mean" in at.error[1].value
    assert "Your measurement" in text(at) and "4× the batch (16 → 64)" in text(at)
    assert at.code and "accumulated" in at.code[-1].value


def test_chapter7_training_answers(tiny_bytes):
    at = lesson(tiny_bytes, ch="7")
    answer(at, "7a", 0)
    answer(at, "7b", 3)
    wait_until(at, lambda a: "Top-1" in {m.label for m in a.metric})
    assert "Impossible" in text(at)  # top-2 below top-1
    assert "Your run: the loss went up at" in text(at)
    assert "completed after 40 steps" in text(at)


def test_the_summary_offers_the_lessons_run_as_a_notebook(tiny_bytes, served):
    import io
    import zipfile

    import nbformat

    at = lesson(tiny_bytes, ch="7")
    answer(at, "7a", 0)
    answer(at, "7b", 3)
    wait_until(at, lambda a: "Top-1" in {m.label for m in a.metric})
    at.button(key="lesson_go_end").click().run()
    no_exception(at)
    run_id = next(reversed(at.session_state["runs"]))
    assert f"Your run **{run_id}** as a notebook" in text(at)
    assert [b.proto.label for b in at.get("download_button")] == ["Download as a notebook"]
    with zipfile.ZipFile(io.BytesIO(served[f"{run_id}.zip"])) as archive:  # an upload: a zip
        nbformat.validate(nbformat.reads(archive.read("nameclf_run.ipynb").decode(),
                                         as_version=4))


def test_chapter8_the_loss_mask(tiny_bytes):
    at = lesson(tiny_bytes, ch="8")
    answer(at, "8a", 10)  # the letters alone
    assert "`<eos>`" in at.error[0].value
    at.button(key="lesson_retry_8a_btn").click().run()
    answer(at, "8a", 13)
    answer(at, "8b", 2)  # equal
    assert "no name is padded" in at.error[0].value
    at.button(key="lesson_skip_8b").click().run()  # "Show me the answer": the reveal
    assert "The answer: **the" in at.info[-1].value
    assert "nats" in text(at) and "ignore_index" in at.code[0].value


def test_next_back_and_summary(tiny_bytes):
    at = lesson(tiny_bytes, ch="1", a="1a:1~1b:15/10~2a:-")
    at.button(key="lesson_next").click().run()
    assert at.query_params["ch"] == "2" and at.subheader[0].value.startswith("Chapter 2")
    at.button(key="lesson_back").click().run()
    assert at.query_params["ch"] == "1"
    at.button(key="lesson_go_end").click().run()
    no_exception(at)
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Right at first try"].startswith("1 of ")
    assert tiles["Right after a retry"] == "1" and tiles["Skipped"] == "1"
    assert at.query_params["ch"] == "end"
    table = text(at)
    assert "✓ right at first try" in table and "✓ right after a retry" in table


@pytest.mark.parametrize("query,words", [
    ({"ch": "42"}, "there is no chapter '42'"),
    ({"ch": "2", "a": "1a:<script>"}, "its answers could not be read"),
])
def test_a_bad_address_starts_at_chapter_one(tiny_bytes, query, words):
    at = lesson(tiny_bytes, **query)
    assert words in at.warning[0].value and "starts at chapter 1" in at.warning[0].value
    assert at.subheader[0].value.startswith("Chapter 1")
    assert at.query_params["ch"] == "1"


def test_bad_names_get_a_clear_line_and_lose_nothing(tiny_bytes):
    at = lesson(tiny_bytes, ch="2", names="Ram," + "x" * 300)
    assert "The names in this address were not used" in at.warning[0].value
    for typed, words in (("", "empty"), ("**Li**", "at least 2"),
                         (",".join(["Li"] * 9), "At most 8"), ("Al, " + "y" * 40, "24")):
        at.text_input(key="lesson_names_box").set_value(typed).run()
        at.button(key="lesson_names_use").click().run()
        no_exception(at)
        assert words in at.warning[0].value and "unchanged" in at.warning[0].value
    at.text_input(key="lesson_names_box").set_value("<b>Li</b>, Nakamura").run()
    at.button(key="lesson_names_use").click().run()
    assert at.query_params["names"] == "<b>Li</b>,Nakamura"
    assert "\\<b\\>Li\\</b\\>" in at.expander[0].label


def test_home_starts_the_lesson():
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120).run()
    start = at.button(key="home_lesson")
    assert start.label == "Start the lesson" and start.proto.type == "primary"
    assert at.button(key="home_train").label == "Train with the recommended settings"
    start.click().run()
    no_exception(at)
    assert at.title[0].value.startswith("The lesson")
    assert at.subheader[0].value.startswith("Chapter 1")


def test_chapter5_a_class_shares_one_race():
    from nameclf.ui.cache import forget_server_wide

    forget_server_wide("lesson_races")
    learners = []
    for _ in range(2):  # the built-in dataset: a race on it may be shared
        at = AppTest.from_file(LESSON, default_timeout=120)
        at.session_state["lesson_race"] = RACE
        at.query_params.update({"names": NAMES, "ch": "5"})
        at.run()
        answer(at, "5a", 3)
        answer(at, "5b", 1)
        learners.append(at)
    first, second = learners
    assert first.session_state["race_job"] is not None, "the first learner races"
    assert "race_job" not in second.session_state, "the second one watches, no race of its own"
    wait_until(second, lambda a: "Your race:" in text(a))
    assert "exactly these settings, for another learner" in text(second)
    wait_until(first, lambda a: "Your race:" in text(a))
    speeds = [at.session_state["race_results"][-1]["packed names/s"] for at in learners]
    assert speeds[0] == speeds[1]  # one measurement, read by both


def test_chapter6_a_class_shares_one_measurement():
    from nameclf.ui.cache import forget_server_wide

    forget_server_wide("lesson_noise")
    learners = []
    for _ in range(2):
        at = AppTest.from_file(LESSON, default_timeout=120)
        at.session_state["lesson_noise"] = {"pool": 512, "draws": 8}
        at.query_params.update({"names": NAMES, "ch": "6"})
        at.run()
        answer(at, "6a", 0)
        answer(at, "6b", 0)
        learners.append(at)
    first, second = learners
    assert first.session_state["grad_job"] is not None, "the first learner measures"
    assert "grad_job" not in second.session_state, "the second one watches"
    for at in (second, first):
        wait_until(at, lambda a: "8 × 64 accumulated vs one 512" in {m.label for m in a.metric})
    assert "for another learner" in text(second)
    assert second.session_state["grad_noise"] == first.session_state["grad_noise"]
