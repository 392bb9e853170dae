"""A class in a real browser: the teacher makes a class link, two learners in two browser
contexts answer (one wrong, one right), and the teacher's live class view counts them.

Screenshots of every stop go to $JOURNEY_SHOTS (default: a temporary folder); look at them.
"""

import os
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.conftest import CHROMIUM
from tests.test_browser import ARGS, EXCEPTION, server, settle  # noqa: F401 (fixture)

SHOTS = Path(os.environ.get("JOURNEY_SHOTS") or tempfile.mkdtemp(prefix="class-"))


@pytest.fixture
def browser():
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def tab(browser) -> Page:
    """A page in its own browser context: nothing shared with the others (cookies, storage)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1600})
    context.set_default_timeout(60_000)
    return context.new_page()


def shot(page: Page, name: str) -> None:
    assert page.locator(EXCEPTION).count() == 0, f"exception shown at {name}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def answer(page: Page, url: str, choice: str, verdict: str, name: str) -> None:
    page.goto(url)
    settle(page)
    q = page.locator(".st-key-lesson_q_1a")
    q.get_by_text(choice, exact=False).click()
    q.get_by_role("button", name="Check").click()
    settle(page)
    expect(q.get_by_text(verdict, exact=False)).to_be_visible()
    shot(page, name)


def choose(page: Page, box: str, setting: str) -> None:
    """Pick one option of a long multiselect by typing it. A rerun that lands while typing
    (the panel just opened) redraws the box and drops the text: type again until it shows."""
    field = page.locator(f".st-key-{box} input")
    option = page.get_by_role("option", name=setting, exact=True)
    for _ in range(5):
        field.click()
        field.fill(setting)  # the list is long: filter it
        try:
            expect(option).to_be_visible(timeout=5_000)
            break
        except AssertionError:
            page.keyboard.press("Escape")
    option.click()
    page.keyboard.press("Escape")


@pytest.mark.timeout(180)
def test_a_teacher_sees_two_learners_answer(server, browser):  # noqa: F811 (fixture)
    started = time.monotonic()
    teacher = tab(browser)
    teacher.goto(f"{server}/Lesson")
    settle(teacher)
    teacher.get_by_text("For teachers: make a class link").click()
    settle(teacher)
    for box, setting in (("class_hide", "cell"), ("class_lock", "lr")):
        choose(teacher, box, setting)
    teacher.get_by_role("button", name="Make the class link").click()
    settle(teacher)
    codes = teacher.locator('[data-testid="stCode"]')
    expect(codes).to_have_count(2)
    learner_url, teacher_url = (codes.nth(i).inner_text().strip() for i in range(2))
    assert learner_url.startswith(f"{server}/Lesson?cls=") and "key=" not in learner_url
    chosen = dict(parse_qsl(urlsplit(learner_url).query))
    assert (chosen["chide"], chosen["clock"]) == ("cell", "lr")
    assert teacher_url.startswith(f"{server}/Lesson?cls=") and "&key=" in teacher_url
    shot(teacher, "01-teacher-panel")

    wrong, right = tab(browser), tab(browser)  # two learners, two browser contexts
    answer(wrong, learner_url, "names × time × tokens", "Not quite", "02-learner-wrong")
    assert "lt=" in wrong.url  # the learner's token, kept in the address
    answer(right, learner_url, "time × names × tokens", "Right:", "03-learner-right")

    teacher.goto(teacher_url)
    settle(teacher)
    expect(teacher.get_by_text("2 learners in this class")).to_be_visible()
    expect(teacher.get_by_text("question 1a (1 of 2 wrong)", exact=False)).to_be_visible()
    table = teacher.locator("table").filter(has_text="names × time × tokens")
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table.locator("tbody tr").first).to_contain_text("✓ right")
    expect(table.locator("tbody tr").first).to_contain_text("50%")
    shot(teacher, "04-class-view")

    # live: the right learner's next answer reaches the open class view without a reload
    right.get_by_label("Your answer").fill("7")
    right.get_by_role("button", name="Check").click()
    settle(right)
    expect(teacher.get_by_text("Question 1b · 1 first answer")).to_be_visible(timeout=20_000)
    shot(teacher, "05-class-view-live")

    # on Train (the same session, through the sidebar): cell hidden, lr shown but fixed
    wrong.get_by_role("link", name="Train").click()
    settle(wrong)
    expect(wrong.get_by_text("Your teacher's class link sets", exact=False)).to_be_visible()
    expect(wrong.locator(".st-key-tw_cell")).to_be_hidden()
    expect(wrong.locator(".st-key-tw_lr")).to_be_visible()
    expect(wrong.locator(".st-key-tw_lr")).to_have_css("pointer-events", "none")
    expect(wrong.locator(".st-key-tw_batch")).to_have_css("pointer-events", "auto")
    shot(wrong, "06-train-locked")

    wrong.goto(teacher_url.rsplit("&key=", 1)[0] + "&key=" + "x" * 32)  # a guessed key
    settle(wrong)
    expect(wrong.get_by_text("This key does not open this class")).to_be_visible()
    expect(wrong.get_by_text("learners in this class")).to_have_count(0)
    shot(wrong, "07-wrong-key")
    assert time.monotonic() - started < 170
