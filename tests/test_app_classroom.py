"""AppTests of a class: the teacher's panel, learners on the class link, the class view, Train."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from streamlit.testing.v1 import AppTest

from nameclf.data.dataset import BUILTINS
from nameclf.serve import classlink as cl
from nameclf.serve import classroom as cr
from nameclf.ui import classroom, params
from nameclf.ui.class_view import MADE
from tests.conftest import ROOT, no_exception, train_page, wait_for_job

LESSON = str(ROOT / "pages/0_Lesson.py")


def page(query: dict, path: str = LESSON) -> AppTest:
    at = AppTest.from_file(path, default_timeout=120)
    at.query_params.update(query)
    at.run()
    no_exception(at)
    return at


def make_class(**choices) -> tuple[dict, dict]:
    """Drive the teacher panel; return the class link's and the teacher link's parameters."""
    at = page({})
    for key, value in choices.items():
        widget = {"class_seed": at.number_input, "class_feedback": at.radio,
                  "class_dataset": at.selectbox}.get(key, at.multiselect)
        widget(key=key).set_value(value)
    at.button(key="class_make").click().run()
    no_exception(at)
    why, learner, teacher = at.session_state[MADE]
    assert why == "" and len(at.code) == 2
    # the addresses shown are what the learners and the teacher open
    shown = [dict(parse_qsl(urlsplit(c.value).query)) for c in at.code]
    assert shown == [learner, teacher]
    return learner, teacher


def text(at: AppTest) -> str:
    parts = [m.value for m in (*at.markdown, *at.caption, *at.subheader, *at.header)]
    return "\n".join(parts + [e.value for e in (*at.success, *at.error, *at.info, *at.warning)])


def test_the_panel_makes_a_link_that_keeps_every_choice():
    learner, teacher = make_class(class_chapters=[3, 1], class_seed=7, class_hide=["names"],
                                  class_lock=["lr", "cell"], class_feedback="release",
                                  class_dataset=BUILTINS[0])
    link, note = cl.parse(learner, (1, 2, 3, 4, 5, 6, 7, 8), classroom.settings())
    assert note == "" and link.chapters == (3, 1) and link.seed == 7
    assert (link.hidden, link.locked, link.feedback) == (("names",), ("lr", "cell"), "release")
    assert link.dataset == BUILTINS[0] and teacher["cls"] == link.class_id
    assert len(teacher["key"]) >= 32 and teacher["key"] not in str(learner)


def test_learners_answer_and_the_teacher_sees_them_live():
    learner, teacher = make_class(class_chapters=[1, 3], class_feedback="release")
    at = page(learner)
    assert [b.key for b in at.button if b.key.startswith("lesson_go_")] == [
        "lesson_go_1", "lesson_go_3", "lesson_go_end"]
    token = at.query_params[cl.LEARNER]
    assert cl.LEARNER in at.query_params and at.query_params["cls"] == learner["cls"]
    at.radio(key="lesson_in_1a").set_value(0).run()  # (B, T, V): the batch_first trap
    at.button(key="lesson_check_1a").click().run()
    no_exception(at)
    assert "Your teacher releases the answers" in at.info[0].value and not at.error
    assert at.query_params[cl.LEARNER] == token and at.query_params["cls"] == learner["cls"]
    other = page(learner)
    other.radio(key="lesson_in_1a").set_value(1).run()
    other.button(key="lesson_check_1a").click().run()
    other.button(key="lesson_go_end").click().run()  # the summary waits for the release too
    assert "Your teacher releases the answers" in other.info[0].value
    assert not [m for m in other.markdown if "| your first answer |" in m.value]
    view = page(teacher)
    shown = text(view)
    assert "2 learners in this class" in shown
    places = {m.label: m.value for m in view.metric}
    assert (places["Chapter 1"], places["Chapter 3"], places["Summary"]) == ("1", "0", "1")
    assert "question 1a (1 of 2 wrong), the shape of the one-hot batch `x`" in shown
    table = next(m.value for m in view.markdown if m.value.startswith("**Question 1a**"))
    rows = table.splitlines()[4:]  # below the table's header
    assert [r.split(" | ")[1:3] for r in rows] == [["1", "50%"], ["1", "50%"]]
    assert [r.endswith("✓ right |") for r in rows] == [True, False]  # the right one first
    assert rows[0].startswith("| time × names") and rows[1].startswith("| names × time")
    view.button(key="class_release").click().run()
    at.run()
    assert "batch_first=True" in at.error[0].value  # released: the feedback shows
    other.run()
    assert [m for m in other.markdown if "| your first answer |" in m.value]


def test_a_wrong_missing_or_made_up_key_sees_nothing():
    learner, teacher = make_class()
    page(learner).radio(key="lesson_in_1a").set_value(1).run().button(
        key="lesson_check_1a").click().run()
    for query, why in (({**teacher, "key": cl.new_key()}, cr.BAD_KEY),
                       ({**teacher, "key": ""}, cr.NO_KEY),
                       ({"cls": cl.new_id(), "key": teacher["key"]}, cr.NO_CLASS)):
        at = page(query)
        assert [e.value for e in at.error] == [why]
        assert not at.metric and not at.button and not at.dataframe
        assert "learner" not in text(at).replace(why, "")


def test_ending_the_class_deletes_it():
    learner, teacher = make_class()
    page(learner)
    at = page(teacher)
    at.button(key="class_end").click().run()
    assert "its data is deleted" in at.success[0].value
    assert classroom.store().config(teacher["cls"]) is None
    assert [e.value for e in page(teacher).error] == [cr.NO_CLASS]
    assert cr.UNKNOWN in text(page(learner))  # the learner is told nothing is sent


def test_locked_settings_cannot_be_changed_on_train(tiny_bytes):
    learner, _ = make_class(class_seed=7, class_lock=["lr"], class_hide=["cell"])
    at = page(learner)
    train = train_page(tiny_bytes)
    for key in ("class_link", "class_learner", "dataset_source"):
        train.session_state[key] = at.session_state[key]
    train.run()
    train.number_input(key="tw_seed").set_value(3).run()
    train.select_slider(key="tw_lr").set_value(0.5).run()
    train.radio(key="tw_cell").set_value("rnn").run()
    train.number_input(key="tw_steps").set_value(77).run()
    no_exception(train)
    values, fixed = train.session_state["train_values"], params.defaults()
    assert (values["seed"], values["lr"], values["cell"]) == (7, fixed["lr"], fixed["cell"])
    assert fixed["lr"] != 0.5 and fixed["cell"] != "rnn" and values["dataset"] == BUILTINS[0]
    assert values["steps"] == 77  # what the teacher left open stays open
    css = next(m.value for m in train.markdown if m.value.startswith("<style>"))
    assert ".st-key-tw_cell {display: none}" in css and ".st-key-tw_lr {pointer" in css


def test_the_learners_names_hidden_or_locked_on_the_lesson():
    hidden, _ = make_class(class_hide=["names"])
    at = page({**hidden, "names": "Ram,Shyam,Al"})  # a hand-added name list is not used
    assert not [e for e in at.expander if e.label.startswith("Your names")]
    assert not [t for t in at.text_input if t.key == "lesson_names_box"]
    assert "(3, 12, 57)" in at.radio(key="lesson_in_1a").options[0]  # the lesson's own names
    locked, _ = make_class(class_lock=["names"])
    at = page(locked)
    assert any(c.value.startswith("Your names, set by your teacher: ") for c in at.caption)
    assert not [t for t in at.text_input if t.key == "lesson_names_box"]
    opened, _ = make_class()
    assert [t.key for t in page(opened).text_input] == ["lesson_names_box"]


def test_a_learners_train_run_reaches_the_class_view_once(tiny_bytes):
    learner, teacher = make_class(class_seed=3)
    at = page(learner)
    train = train_page(tiny_bytes)
    for key in ("class_link", "class_learner"):
        train.session_state[key] = at.session_state[key]
    train.run()
    train.button(key="train_start").click().run()
    wait_for_job(train)
    train.run().run()  # the result drawn again: still one run sent
    no_exception(train)
    (run,) = train.session_state["runs"].values()
    view, _ = classroom.store().view(teacher["cls"], teacher["key"])
    assert len(view.runs) == 1 and view.runs[0]["top1"] == run.metrics["top1"]
    assert (view.runs[0]["cell"], view.runs[0]["hidden"], view.runs[0]["seed"]) == ("gru", 16, 3)
    assert train.session_state["train_values"]["seed"] == 3  # the class's, not seed=1
    shown = text(page(teacher))
    assert "The class's runs on Train" in shown and page(teacher).dataframe


def test_a_reload_on_train_keeps_the_class(tiny_bytes):
    """Train's address carries the class link beside the settings: a fresh session opened
    from it (a reload) is still in the class, its locks in place, under the same token."""
    learner, _ = make_class(class_seed=7, class_lock=["lr"])
    at = page(learner)
    train = train_page(tiny_bytes)
    for key in ("class_link", "class_learner", "dataset_source"):
        train.session_state[key] = at.session_state[key]
    train.run()
    address = train.query_params
    assert address["cls"] == learner["cls"] and address[cl.LEARNER] == at.session_state[
        "class_learner"]
    reloaded = AppTest.from_file(str(ROOT / "pages/2_Train.py"), default_timeout=120)
    reloaded.query_params.update({k: v[0] if isinstance(v, list) else v
                                  for k, v in address.items()})
    reloaded.run()
    no_exception(reloaded)
    assert reloaded.session_state["class_link"].class_id == learner["cls"]
    assert reloaded.session_state["class_learner"] == at.session_state["class_learner"]
    reloaded.select_slider(key="tw_lr").set_value(0.5).run()
    assert reloaded.session_state["train_values"]["lr"] == params.defaults()["lr"]
    assert reloaded.session_state["train_values"]["seed"] == 7
