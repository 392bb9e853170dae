"""The load test's visitors in headless Chromium (`python bench/load_test.py --browser`).

One browser, one context per visitor (8 Streamlit sessions). Heavier than the protocol client
(bench/st_client.py): on a 2-core machine the eight renderers compete with the server for the
cores, so latency measured this way is mostly the browsers' (docs/reliability.md).
"""

import asyncio
import re
import time

from localhost import ARGS, CHROMIUM
from playwright.async_api import Page, async_playwright, expect

PLAN: dict = {}  # tiny, long, browse, trainers, browsers: set by drive()


async def settle(page: Page) -> None:
    """Wait until the page has a title and its script has stopped running."""
    await expect(page.locator("h1").first).to_be_visible(timeout=90_000)
    await page.wait_for_timeout(300)
    idle = '[data-testid="stApp"]:not([data-test-script-state="running"])'
    await expect(page.locator(f'{idle}:not([data-test-script-state="initial"])')).to_have_count(
        1, timeout=90_000)


async def open_page(page: Page, path: str) -> float:
    """Switch page from the sidebar like a visitor (same session) and time it."""
    started = time.monotonic()
    label = path.replace("_", " ") or "Home"
    await page.locator('[data-testid="stSidebar"]').get_by_role("link", name=label,
                                                                exact=True).click()
    if path:
        await page.wait_for_url(re.compile(f"/{path}"), wait_until="commit")  # no reload
    await settle(page)
    return time.monotonic() - started


async def first_page(page: Page, base: str, path: str) -> float:
    """Open the app at `path` (this starts the session) and time it."""
    started = time.monotonic()
    await page.goto(f"{base}/{path}")
    await settle(page)
    return time.monotonic() - started


async def runs_listed(page: Page) -> list[str]:
    """The run ids Evaluate offers this session (empty if it has none)."""
    await open_page(page, "Evaluate")
    if await page.get_by_text("No trained model yet").count():
        return []
    box = page.locator('[data-testid="stSelectbox"]').first
    await box.click()
    options = await page.locator('[role="option"]').all_inner_texts()
    await page.keyboard.press("Escape")
    return [o.strip() for o in options]


async def trainer(ctx, base: str, i: int, out: dict) -> None:
    """Train a tiny model (waiting in the queue if need be); see only that run."""
    page = await ctx.new_page()
    page.set_default_timeout(120_000)
    out["render_s"].append(await first_page(page, base, PLAN["tiny"]))
    await page.get_by_role("button", name="Start training").click()
    queued = page.get_by_text(re.compile(r"Waiting for a free training slot"))
    done = page.get_by_text(re.compile(r"completed after [\d,]+ steps"))
    running = page.get_by_text(re.compile("names/s"))
    await expect(queued.or_(running).or_(done).first).to_be_visible()
    out["queued"] += await queued.count() > 0
    await expect(done).to_be_visible(timeout=180_000)
    out["finished"] += 1
    listed = await runs_listed(page)
    if len(listed) != 1:  # its own run only (every session numbers its runs from 1)
        out["errors"].append(f"trainer {i} sees runs {listed}")
    out["runs_seen"][f"trainer{i}"] = listed
    await ctx.close()


async def browser(ctx, base: str, i: int, out: dict, trainers_done: asyncio.Event) -> None:
    """Walk the pages once, stay until the trainers are done; never see a run."""
    page = await ctx.new_page()
    page.set_default_timeout(120_000)
    out["render_s"].append(await first_page(page, base, ""))
    for path in PLAN["browse"]:
        out["render_s"].append(await open_page(page, path))
        if await page.locator('[data-testid="stException"]').count():
            out["errors"].append(f"browser {i}: exception on /{path}")
    await trainers_done.wait()  # the session stays open meanwhile
    listed = await runs_listed(page)
    if listed:
        out["errors"].append(f"browser {i} sees another session's runs {listed}")
    out["runs_seen"][f"browser{i}"] = listed
    await ctx.close()


async def leaver(ctx, base: str, out: dict) -> None:
    """Start a long training, see it running, then close the tab mid-training."""
    page = await ctx.new_page()
    page.set_default_timeout(120_000)
    await first_page(page, base, PLAN["long"])
    await page.get_by_role("button", name="Start training").click()
    await expect(page.get_by_text(re.compile("names/s"))).to_be_visible()
    await ctx.close()  # the websocket closes: Streamlit releases the session's jobs
    out["left_at"] = time.monotonic()


async def guarded(what: str, coro, out: dict) -> None:
    """Run one visitor; a failed expectation becomes one error line naming the visitor."""
    try:
        await coro
    except Exception as err:
        lines = str(err).splitlines()
        where = next((ln.strip() for ln in lines if "waiting for" in ln), "")
        out["errors"].append(f"{what}: {lines[0] if lines else type(err).__name__} {where}")


async def drive(base: str, out: dict, plan: dict) -> dict:
    """The visitors of load_test.py, each in its own context of one headless Chromium."""
    PLAN.update(plan)
    n_trainers, n_browsers = plan["trainers"], plan["browsers"]
    expect.set_options(timeout=120_000)  # a busy 2-core machine: be patient, but bounded
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        contexts = [await chromium.new_context(viewport={"width": 1200, "height": 1600})
                    for _ in range(1 + n_trainers + n_browsers)]
        await guarded("leaver", leaver(contexts[0], base, out), out)  # holds a slot till it leaves
        trainers_done = asyncio.Event()

        async def trainers() -> None:
            await asyncio.gather(*(guarded(f"trainer {i}", trainer(contexts[1 + i], base, i, out),
                                           out) for i in range(n_trainers)))
            trainers_done.set()

        await asyncio.gather(trainers(), *(
            guarded(f"browser {i}", browser(contexts[1 + n_trainers + i], base, i, out,
                                            trainers_done), out) for i in range(n_browsers)))
        await chromium.close()
    return out
