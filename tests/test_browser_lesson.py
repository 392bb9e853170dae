"""The lesson in a real browser: names typed once, a question answered wrong then right, the
feedback, a reload that resumes at the same chapter with the same answers, the speed race and
the gradient noise measured after the answers, the output side, and the summary.

Screenshots of every stop go to $JOURNEY_SHOTS (default: a temporary folder); look at them.
"""

import os
import re
import tempfile
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.test_browser import EXCEPTION, page, server, settle  # noqa: F401 (fixtures)

NAMES = "Ram, Shyam, Al"  # lengths 3, 5, 2: a (5, 3) grid, 5 <pad> cells
SHOTS = Path(os.environ.get("JOURNEY_SHOTS") or tempfile.mkdtemp(prefix="lesson-"))


def shot(tab: Page, name: str, element=None) -> None:
    """No exception box; a screenshot of the page (or of one element) for a person to read."""
    assert tab.locator(EXCEPTION).count() == 0, f"exception shown at {name}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    target = element if element is not None else tab
    kwargs = {} if element is not None else {"full_page": True}
    target.screenshot(path=str(SHOTS / f"{name}.png"), **kwargs)


def question(tab: Page, qid: str):
    return tab.locator(f".st-key-lesson_q_{qid}")


def check(tab: Page) -> None:
    tab.get_by_role("button", name="Check").click()
    settle(tab)


@pytest.mark.timeout(240)
def test_the_lesson_in_a_browser(server, page):  # noqa: F811 (fixtures)
    started = time.monotonic()
    page.goto(f"{server}/Lesson")
    settle(page)
    expect(page.get_by_text("Chapter 1 · One name → indices → one-hot")).to_be_visible()
    page.get_by_text("Your names:").click()
    box = page.get_by_label("Type 2 to 8 names, separated by commas: every chapter uses them")
    box.fill(NAMES)
    box.press("Enter")
    page.get_by_role("button", name="Use these names").click()
    settle(page)
    expect(page).to_have_url(re.compile(r"names=Ram%2CShyam%2CAl"))

    q = question(page, "1a")
    expect(page.get_by_text("Show the (T, V) one-hot slice of")).to_have_count(0)  # not yet
    shot(page, "01-question", q)
    q.get_by_text("names × time × tokens").click()
    check(page)
    expect(q.get_by_text("Not quite: names × time × tokens")).to_be_visible()
    expect(q.get_by_text("batch_first=True", exact=False)).to_be_visible()
    shot(page, "02-wrong", q)
    q.get_by_role("button", name="Try again").click()
    settle(page)
    q.get_by_text("time × names × tokens").click()
    check(page)
    expect(q.get_by_text("Right: time × names × tokens: (5, 3,", exact=False)).to_be_visible()
    expect(q.get_by_text("Your first answer", exact=False)).to_be_visible()
    expect(page.get_by_text("Show the (T, V) one-hot slice of")).to_be_visible()  # the reveal
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    page.wait_for_timeout(500)  # the grid's first paint
    box = q.bounding_box()
    page.screenshot(path=str(SHOTS / "03-right-and-reveal.png"),
                    clip={"x": box["x"], "y": box["y"], "width": box["width"], "height": 560})
    shot(page, "04-chapter1")

    page.get_by_label("Your answer").fill("10")
    check(page)
    expect(page.get_by_text("Right: 10.", exact=False)).to_be_visible()
    page.get_by_role("button", name="Next →").click()
    settle(page)
    expect(page.get_by_text("Chapter 2 · A batch needs padding")).to_be_visible()
    page.get_by_label("Your answer").fill("5")
    check(page)
    expect(page.get_by_text("Right: 5.", exact=False)).to_be_visible()
    url = page.url

    page.reload()  # a new session: everything comes back from the address
    settle(page)
    assert page.url == url
    expect(page.get_by_text("Chapter 2 · A batch needs padding")).to_be_visible()
    expect(page.get_by_text("Right: 5.", exact=False)).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("✓ 1 · One-hot"))).to_be_visible()
    expect(page.get_by_text("Your names: Ram, Shyam, Al")).to_be_visible()
    shot(page, "05-reloaded")

    for chapter in (3, 4):
        page.get_by_role("button", name=re.compile(f"^. {chapter} · ")).click()
        settle(page)
        while page.get_by_role("button", name="Skip").count():
            page.get_by_role("button", name="Skip").first.click()
            settle(page)
        shot(page, f"06-chapter{chapter}")
    expect(page.get_by_text("Packed vs one name at a time")).to_be_visible()

    page.get_by_role("button", name="Next →").click()  # chapter 5: the race
    settle(page)
    page.get_by_text("over 50×").click()
    check(page)
    page.get_by_text("about the same (within 10%)").click()
    check(page)
    expect(page.get_by_text("Your race:", exact=False).first).to_be_visible(timeout=90_000)
    settle(page)
    shot(page, "07-race")

    page.get_by_role("button", name="Next →").click()  # chapter 6: the gradient noise
    settle(page)
    page.get_by_text("smaller, about 2×").click()
    check(page)
    page.get_by_text("the same, up to float rounding").click()
    check(page)
    expect(page.get_by_text("Your measurement", exact=False).first).to_be_visible(
        timeout=90_000)
    settle(page)
    shot(page, "07b-gradients")

    page.get_by_role("button", name=re.compile(r"^. 8 · ")).click()
    settle(page)
    page.get_by_label("Your answer").fill("10")  # forgets <eos>
    check(page)
    expect(page.get_by_text("Each name also ends with", exact=False).first).to_be_visible()
    page.get_by_role("button", name="Show me the answer").click()
    settle(page)
    question(page, "8b").get_by_text("the masked loss", exact=True).click()
    check(page)
    expect(page.get_by_text("Pick an answer first")).to_have_count(0)
    expect(page.get_by_text("Masked ", exact=False).first).to_be_visible()
    shot(page, "08-chapter8")
    page.get_by_role("button", name="Finish: your summary →").click()
    settle(page)
    expect(page.get_by_text("Your summary")).to_be_visible()
    expect(page.get_by_text("right after a retry", exact=False).first).to_be_visible()
    shot(page, "09-summary")

    page.goto(f"{server}/Lesson?ch=12&a=1a:oops")  # a hand-edited address
    settle(page)
    expect(page.get_by_text("starts at chapter 1", exact=False)).to_be_visible()
    expect(page.get_by_text("Chapter 1 · One name")).to_be_visible()
    shot(page, "10-bad-address")
    print(f"lesson journey: {time.monotonic() - started:.0f} s; screenshots in {SHOTS}")
