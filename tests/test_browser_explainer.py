"""Every step of the Padding & packing page in a real browser, from a deep link.

Set NAMECLF_SHOTS=1 to save a screenshot of every step to /tmp/shots_explainer/.
"""

import os
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from nameclf.batching.encoding import explain
from nameclf.lab.packing import STEPS
from tests.test_browser import EXCEPTION, page, server, settle  # noqa: F401 (fixtures)

SHOTS = Path("/tmp/shots_explainer")
NAMES = ["Ram", "Shyam", "Alexandrova", "Li", "Petersen", "Nakamura", "Schmidt", "Kowalski"]


def shot(tab: Page, name: str) -> None:
    """No exception box; keep a screenshot if asked."""
    assert tab.locator(EXCEPTION).count() == 0, f"exception shown at {name}"
    if os.environ.get("NAMECLF_SHOTS"):
        SHOTS.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.mark.timeout(300)
def test_walk_the_explainer(server, page):  # noqa: F811 (fixtures)
    expected = explain(NAMES)
    page.goto(f"{server}/Padding_and_packing")
    settle(page)
    box = page.get_by_label("Names (2 to 8, separated by commas)")
    box.fill(", ".join(NAMES))
    box.press("Enter")
    settle(page)
    for step in range(1, len(STEPS) + 1):
        expect(page.get_by_text(f"Step {step} · {STEPS[step - 1]}")).to_be_visible()
        if step == 2:
            wasted = f"{expected['wasted_fraction']:.0%}"
            expect(page.get_by_text(wasted, exact=True)).to_be_visible()
        if step == 4:
            expect(page.get_by_text(str(expected["batch_sizes"])).first).to_be_visible()
        shot(page, f"step{step}")
        if step < len(STEPS):
            started = time.monotonic()
            page.get_by_role("button", name="Next →").click()
            expect(page.get_by_text(f"Step {step + 1} ·")).to_be_visible()
            settle(page)
            print(f"step {step + 1} shown in {time.monotonic() - started:.2f} s (with settling)")
    expect(page.get_by_text("Packed vs one name at a time")).to_be_visible()
    page.get_by_role("button", name="← Back").click()
    expect(page.get_by_text(f"Step {len(STEPS) - 1} ·")).to_be_visible()
    shot(page, "back")
