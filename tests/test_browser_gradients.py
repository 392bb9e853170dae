"""The Batch size & gradients page in a real browser, the way a learner reaches it: train on
Train, follow the link under the noisy loss chart, measure that run's gradient noise, then
race the batch sizes.

Set NAMECLF_SHOTS=1 to save a screenshot of every step to /tmp/shots_gradients/.
"""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.test_browser import EXCEPTION, page, server, settle  # noqa: F401 (fixtures)

SHOTS = Path("/tmp/shots_gradients")
SHORT_RUN = "Train?preset=fast&hidden=32&emb=16&budget=steps&steps=150&batch=32"


def shot(tab: Page, name: str) -> None:
    """No exception box; keep a screenshot if asked."""
    assert tab.locator(EXCEPTION).count() == 0, f"exception shown at {name}"
    if os.environ.get("NAMECLF_SHOTS"):
        SHOTS.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.timeout(180)
def test_from_a_noisy_loss_to_the_noise_and_the_race(server, page):  # noqa: F811 (fixtures)
    page.set_viewport_size({"width": 1400, "height": 3600})  # the whole page in one shot
    page.goto(f"{server}/{SHORT_RUN}")
    settle(page)
    page.get_by_role("button", name="Start training").click()
    link = page.get_by_role("link", name="How a batch's size sets that noise")
    expect(link.first).to_be_visible(timeout=90_000)
    expect(page.get_by_text("Download checkpoint")).to_be_visible(timeout=90_000)
    shot(page, "1_train_link")
    link.first.click()
    page.wait_for_url(re.compile("/Batch_size_and_gradients"))
    settle(page)
    expect(page.get_by_text(re.compile(r"Measures your latest recurrent run, \S+"))
           ).to_be_visible()
    shot(page, "2_page")

    page.get_by_role("button", name="Measure").click()
    expect(page.get_by_text("B_simple, at init")).to_be_visible(timeout=90_000)
    expect(page.get_by_text(re.compile(r"^B_simple, trained \("))).to_be_visible()
    expect(page.get_by_text(re.compile(r"4× the batch \(16 → 64\) made the gradient's squared "
                                       r"error [\d.]+× smaller"))).to_be_visible()
    expect(page.get_by_text("8 × 64 accumulated vs one 512")).to_be_visible()
    shot(page, "3_noise")

    seconds = page.get_by_role("slider", name="Seconds per batch size at most")
    seconds.focus()
    seconds.press("Home")  # the shortest: 10 s per batch size
    settle(page)
    page.get_by_role("button", name="Start the batch-size race").click()
    expect(page.get_by_text(re.compile(r"Training the target run|batch sizes done"))
           ).to_be_visible(timeout=30_000)
    shot(page, "4_race_running")
    expect(page.get_by_text(re.compile(r"Target held-out loss [\d.]+"))).to_be_visible(
        timeout=120_000)
    settle(page)
    expect(page.get_by_text(re.compile("Steps to reach the target|No batch size reached"))
           ).to_be_visible()
    expect(page.get_by_text(re.compile(r"lr\(B\) = 0.005 × √\(B / 64\)")).first).to_be_visible()
    shot(page, "5_race_done")

