"""A visitor's journey in Chromium: train a small GRU, switch two pitfalls on, open a cell of
the confusion matrix, and follow one of its names to Predict's "Why this name?".

Screenshots go to $JOURNEY_SHOTS (default: a temporary folder), one per step.
"""

import os
import re
import tempfile
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from nameclf.lab.pitfall_cards import BY_KEY, CARDS, EFFECTS
from tests.test_browser import EXCEPTION, open_from_sidebar, page, server, settle  # noqa: F401

QUICK = "Train?preset=fast&cell=gru&hidden=32&emb=16&budget=steps&steps=200&batch=32"


def switch_on(tab: Page, title: str, guess: str) -> None:
    """Open a card by its title, guess what the bug does, then switch it on."""
    card = tab.get_by_test_id("stExpander").filter(has_text=title)
    card.get_by_text(title, exact=True).click()
    settle(tab)
    switch = card.get_by_test_id("stCheckbox").filter(has_text="Switch the bug on")
    expect(switch.locator("input")).to_be_disabled()  # no guess yet
    card.get_by_text(EFFECTS[guess], exact=True).click()
    settle(tab)
    switch.click()
    settle(tab)


def shot(tab: Page, folder: Path, name: str) -> None:
    """No exception box on the page; a full-page screenshot."""
    assert tab.locator(EXCEPTION).count() == 0, f"exception shown at {name}"
    tab.screenshot(path=str(folder / f"{name}.png"), full_page=True)


@pytest.mark.timeout(180)
def test_pitfalls_cells_and_why(server, page):  # noqa: F811 (fixtures)
    shots = Path(os.environ.get("JOURNEY_SHOTS") or tempfile.mkdtemp(prefix="pitfalls-"))
    shots.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    page.goto(f"{server}/{QUICK}")
    settle(page)
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_text(re.compile(r"run1-gru\*?\*?: completed after"))).to_be_visible(
        timeout=120_000)
    settle(page)

    open_from_sidebar(page, "Pitfalls")
    expect(page.get_by_test_id("stExpander")).to_have_count(len(CARDS))
    shot(page, shots, "1_pitfalls_first_view")
    switch_on(page, CARDS[0].title, "answers")  # output[-1] of a padded batch
    expect(page.get_by_text("Right: it changes the answers.")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Reading the state after the padding costs"))
           ).to_be_visible(timeout=60_000)
    expect(page.get_by_text(re.compile(r"your latest recurrent run, run1-gru"))).to_be_visible()
    shot(page, shots, "2_pitfalls_one_on")
    switch_on(page, BY_KEY["masked_mean"].title, "error")
    expect(page.get_by_text(re.compile(r"^Not quite: it changes a number"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"of the cells are padding, so \.mean\(\) reports"))
           ).to_be_visible(timeout=60_000)
    shot(page, shots, "3_pitfalls_two_on")

    open_from_sidebar(page, "Evaluate")
    expect(page.get_by_text("Open a cell of the confusion matrix")).to_be_visible()
    caption = page.get_by_text(re.compile(r"test names labelled .+ were predicted as"))
    expect(caption).to_be_visible()
    link = page.get_by_test_id("stMain").get_by_test_id("stPageLink").first
    link.scroll_into_view_if_needed()  # the page scrolls inside the app: show the links
    shot(page, shots, "4_evaluate_cell")
    name = link.inner_text().strip().splitlines()[-1].strip()  # after the icon's name
    link.locator("a").click()
    page.wait_for_url(re.compile(r"/Predict\?"))
    settle(page)
    expect(page.get_by_text("Why this name?")).to_be_visible()
    expect(page.get_by_label("Names, one per line")).to_have_value(name)
    expect(page.get_by_text(re.compile(r"^Occlusion: p\(label\)"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Integrated gradients of log p"))).to_be_visible()
    shot(page, shots, "5_predict_why")
    print(f"journey in {time.monotonic() - started:.0f} s; screenshots in {shots}")
