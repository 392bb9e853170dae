"""The Generate and Padding-the-targets pages in Chromium, walked as a learner does.

Uploads a tiny file on Home, trains a generator on Generate (live curve, then the result),
trains a classifier on Train so that it judges the names, samples, and reads the
walkthrough. Screenshots go to /tmp/shots/generate_*.png when NAMECLF_SHOTS=1.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import tiny_names
from tests.test_browser import check, open_from_sidebar, page, server, settle  # noqa: F401


@pytest.mark.timeout(420)
def test_a_learner_trains_a_generator_and_reads_the_walkthrough(server, page):  # noqa: F811
    page.goto(server)
    settle(page)
    page.get_by_text("Your own file").click()
    settle(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        files=[{"name": "mine.txt", "mimeType": "text/plain", "buffer": tiny_names()}])
    expect(page.get_by_text(re.compile(r"120 names in 3 labels from mine.txt"))).to_be_visible()
    settle(page)

    page.set_viewport_size({"width": 1400, "height": 2600})
    open_from_sidebar(page, "Generate")
    expect(page.get_by_text("No generator yet")).to_be_visible()
    check(page, "generate_1_empty")
    epochs = page.get_by_label("Epochs")
    epochs.fill("200")
    epochs.press("Enter")
    settle(page)
    page.get_by_role("button", name="Train the generator").click()
    expect(page.get_by_text(re.compile(r"step [\d,]+/[\d,]+ · [\d,]+ names/s"))).to_be_visible(
        timeout=120_000)
    page.wait_for_timeout(3000)  # let the curve grow
    check(page, "generate_1b_live")
    page.get_by_role("button", name="Stop").click()
    expect(page.get_by_text(re.compile(r"gen1-\w+: stopped after \d+ steps"))).to_be_visible(
        timeout=60_000)
    settle(page)
    expect(page.get_by_text("Download generator checkpoint")).to_be_visible()
    expect(page.get_by_text("Novelty")).to_be_visible()
    check(page, "generate_2_trained")

    open_from_sidebar(page, "Train")  # a classifier to judge the names
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_text(re.compile(r"run\d+-gru: completed after"))).to_be_visible(
        timeout=120_000)
    settle(page)

    open_from_sidebar(page, "Generate")
    expect(page.get_by_text("Agreement")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Judged by your latest classifier run"))).to_be_visible()
    prefix = page.get_by_label("Start with (optional)")
    prefix.fill("Ba")
    prefix.press("Enter")
    settle(page)
    check(page, "generate_3_judged")

    page.set_viewport_size({"width": 1400, "height": 4400})  # the app scrolls inside: a
    open_from_sidebar(page, "Padding_the_targets")  # tall window shows all five steps
    expect(page.get_by_text("Step 5 · Teacher forcing and free running")).to_be_visible()
    expect(page.get_by_text(re.compile(r"computed by your generator gen1-\w+"))).to_be_visible()
    check(page, "generate_4_walkthrough")
    names = page.get_by_label("Names (comma-separated, up to 8)")
    names.fill("Bob, Ferdinand, Al")
    names.press("Enter")
    settle(page)
    # 4 + 10 + 3 = 17 real cells of 3 x 10
    cells = re.compile(r"30 cells, 17 of them real and 13 padding")
    expect(page.get_by_text(cells)).to_be_visible()
    check(page, "generate_5_walkthrough_own_names")
    page.set_viewport_size({"width": 1400, "height": 2000})  # as the other browser tests
