"""The lesson's grading and its progress in the page's address: round trips and bad input."""

import pytest

from nameclf.lab import lesson as ls
from nameclf.lab.lesson import Attempt, Progress, Question

CHAPTERS = (1, 2, 3, 4, 5, 6, 7, 8)
QIDS = {q for c in CHAPTERS for q in ls.QUESTION_IDS[c]}
NUMBER = Question("2a", "How many?", 14, "because", traps=((22, "real ones"),))
PERCENT = Question("2b", "Share?", 62.8, "because", tolerance=5.0, unit="%")
CHOICE = Question("1a", "Which?", 1, "because", ("x", "y", "z"), ("tempting x", "", "tempting z"))


def test_numbers_are_right_within_the_tolerance():
    assert ls.is_right(NUMBER, 14) and not ls.is_right(NUMBER, 15)
    assert ls.is_right(PERCENT, 57.8) and ls.is_right(PERCENT, 67.8)
    assert not ls.is_right(PERCENT, 57.7)
    assert PERCENT.tolerance_note() == "within ±5 %"


def test_feedback_names_the_tempting_mistake():
    assert ls.feedback(NUMBER, 22) == "real ones"
    assert ls.feedback(NUMBER, 30) == "30 is too high."
    assert ls.feedback(NUMBER, 14) == "because"
    assert ls.feedback(CHOICE, 2) == "tempting z"
    assert ls.feedback(Question("5a", "?", None, "", ("a", "b"), measured=True), 0) == ""


def test_the_first_answer_counts():
    p = Progress()
    ls.record(p, "2a", "22")
    assert ls.status(NUMBER, p.answers["2a"]) == "wrong"
    assert not ls.resolved(NUMBER, p.answers["2a"])
    ls.record(p, "2a", "14")
    assert p.answers["2a"] == Attempt("22", "14", False)
    assert ls.status(NUMBER, p.answers["2a"]) == "right-retry"
    assert ls.resolved(NUMBER, p.answers["2a"])
    ls.record(p, "1a", "1")
    assert ls.status(CHOICE, p.answers["1a"]) == "right-first"
    ls.skip(p, "2b")
    assert ls.status(PERCENT, p.answers["2b"]) == "skipped" and ls.resolved(PERCENT,
                                                                            p.answers["2b"])
    assert ls.tally([NUMBER, CHOICE, PERCENT], p) == {
        "right-first": 1, "right-retry": 1, "wrong": 0, "skipped": 1, "pending": 0,
        "unanswered": 0}


def test_a_measured_question_is_pending_until_measured():
    pending = Question("5a", "?", None, "", ("a", "b"), ("", ""), measured=True)
    p = Progress()
    ls.record(p, "5a", "0")
    assert ls.status(pending, p.answers["5a"]) == "pending"
    assert ls.resolved(pending, p.answers["5a"])  # its view (the race) may start


def test_progress_round_trips_through_the_address():
    p = Progress(4, {"1a": Attempt("0", "1"), "2a": Attempt("22", "22", True),
                     "2b": Attempt(skipped=True), "3a": Attempt("2", "2")}, ["Ram", "Li"])
    query = ls.to_query(p)
    assert query == {"ch": "4", "a": "1a:0/1~2a:22!~2b:-~3a:2", "names": "Ram,Li"}
    back, note = ls.parse_progress(query, CHAPTERS, QIDS)
    assert note == "" and back == p
    assert ls.parse_progress({"ch": "end"}, CHAPTERS, QIDS)[0].chapter == ls.SUMMARY


@pytest.mark.parametrize("query,what", [
    ({"ch": "9"}, "there is no chapter '9'"),
    ({"ch": "99", "a": "1a:0"}, "there is no chapter '99'"),
    ({"ch": "-1"}, "there is no chapter"),
    ({"ch": "<script>"}, "there is no chapter"),
    ({"ch": "2", "a": "1a:zero"}, "its answers could not be read"),
    ({"ch": "2", "a": "9z:1"}, "its answers could not be read"),
    ({"ch": "2", "a": "1a:1~1a:2"}, "its answers could not be read"),
    ({"ch": "2", "a": "1a:nan"}, "its answers could not be read"),
    ({"ch": "2", "a": "1a:1/2/3"}, "its answers could not be read"),
    ({"ch": "2", "a": "x" * 5000}, "its answers could not be read"),
])
def test_a_bad_address_restarts_at_chapter_one(query, what):
    p, note = ls.parse_progress(query, CHAPTERS, QIDS)
    assert p.chapter == 1 and p.answers == {}
    assert what in note and "starts at chapter 1" in note


def test_a_stored_choice_out_of_range_is_no_answer():
    assert ls.parse_value(CHOICE, "7") is None and ls.parse_value(CHOICE, "2") == 2
    assert ls.status(CHOICE, Attempt("7", "7")) == "pending"  # never counted as right


@pytest.mark.parametrize("text,words", [
    ("", "empty"), ("Ram", "at least 2"), (",".join(["Li"] * 9), "At most 8"),
    ("Ram, " + "x" * 30, "at most 24 characters"), ("Ram,,Li", "empty"),
    ("a" * 1000, "1,000 characters long"),
])
def test_bad_name_lists_get_a_clear_line(text, words):
    names, warning = ls.parse_names(text)
    assert names == [] and words in warning


def test_hostile_names_are_kept_as_typed():
    names, warning = ls.parse_names("<b>x</b>, **Li**, `rm`")
    assert warning is None and names == ["<b>x</b>", "**Li**", "`rm`"]
