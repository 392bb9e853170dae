"""Load test: 8 concurrent visitors in headless Chromium against a real `streamlit run`.

    python bench/load_test.py

One browser, 8 contexts (8 Streamlit sessions), at once:
- 1 "leaver" starts a long training, sees it run, and closes the tab: the session's end must
  stop its job and free the training slot (otherwise the trainers below stay queued);
- 3 "trainers" each train a tiny model from a Train-page link (queued first if the slot is
  taken), then check that Evaluate lists exactly their own run and no other session's;
- 4 "browsers" walk Home, Data, Predict, Evaluate and Padding, and must see no runs at all.
Meanwhile a probe times `/_stcore/health` and `GET /` every second, and psutil samples the
server's RSS (children included). Prints a table and one JSON line; exits 1 on any failure.
"""

import asyncio
import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import psutil
from playwright.async_api import Page, async_playwright, expect

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
TRAINERS, BROWSERS = 3, 4  # plus one leaver: 8 sessions
TINY = "Train?preset=fast&hidden=16&emb=8&budget=steps&steps=100&batch=32&time=60"
LONG = "Train?preset=fast&hidden=64&emb=16&budget=steps&steps=20000&batch=32&time=600"
BROWSE = ["", "Data", "Predict", "Evaluate", "Padding_and_packing"]
MAX_LATENCY_S = 2.0  # health check and page HTML must answer within this during the load
MAX_RSS_MB = 1500  # server RSS bound, children included
TIME_LIMIT_S = 230  # the whole test, server start included


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    """`streamlit run streamlit_app.py` on 127.0.0.1:port, answering its health check."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless",
         "true", "--server.port", str(port), "--server.address", "127.0.0.1"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("the streamlit server did not start")


class Probe(threading.Thread):
    """Times the health check and the page HTML, and samples RSS, until stopped."""

    def __init__(self, base: str, pid: int):
        super().__init__(daemon=True)
        self.base, self.proc = base, psutil.Process(pid)
        self.health: list[float] = []
        self.page: list[float] = []
        self.failures: list[str] = []
        self.peak_rss = 0
        self.halt = threading.Event()

    def rss(self) -> int:
        procs = [self.proc, *self.proc.children(recursive=True)]
        total = 0
        for p in procs:
            with contextlib.suppress(psutil.Error):  # a child may exit meanwhile
                total += p.memory_info().rss
        return total

    def timed(self, url: str, into: list[float]) -> None:
        started = time.monotonic()
        try:
            urllib.request.urlopen(url, timeout=10).read()
            into.append(time.monotonic() - started)
        except OSError as err:
            self.failures.append(f"{url}: {err}")

    def run(self) -> None:
        while not self.halt.wait(1.0):
            self.peak_rss = max(self.peak_rss, self.rss())
            self.timed(f"{self.base}/_stcore/health", self.health)
            self.timed(f"{self.base}/", self.page)


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
    out["render_s"].append(await first_page(page, base, TINY))
    await page.get_by_role("button", name="Start training").click()
    queued = page.get_by_text(re.compile(r"Waiting for a free training slot"))
    done = page.get_by_text(re.compile(r"completed after \d+ steps"))
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
    for path in BROWSE:
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
    await first_page(page, base, LONG)
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


async def drive(base: str, out: dict) -> dict:
    expect.set_options(timeout=120_000)  # a busy 2-core machine: be patient, but bounded
    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        contexts = [await chromium.new_context(viewport={"width": 1200, "height": 1600})
                    for _ in range(1 + TRAINERS + BROWSERS)]
        await guarded("leaver", leaver(contexts[0], base, out), out)  # holds a slot till it leaves
        trainers_done = asyncio.Event()

        async def trainers() -> None:
            await asyncio.gather(*(guarded(f"trainer {i}", trainer(contexts[1 + i], base, i, out),
                                           out) for i in range(TRAINERS)))
            trainers_done.set()

        await asyncio.gather(trainers(), *(
            guarded(f"browser {i}", browser(contexts[1 + TRAINERS + i], base, i, out,
                                            trainers_done), out) for i in range(BROWSERS)))
        await chromium.close()
    return out


def idle_cpu(pid: int, seconds: float = 3.0) -> float:
    """The server's CPU use (percent of one core, children included) over a few seconds."""
    procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    before = sum(sum(p.cpu_times()[:2]) for p in procs)
    time.sleep(seconds)
    return 100 * (sum(sum(p.cpu_times()[:2]) for p in procs) - before) / seconds


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def main() -> int:
    started = time.monotonic()
    port = free_port()
    server = start_server(port)
    base = f"http://127.0.0.1:{port}"
    probe = Probe(base, server.pid)
    out = dict(render_s=[], queued=0, finished=0, errors=[], runs_seen={})
    cpu_after = float("nan")
    try:
        probe.start()
        asyncio.run(asyncio.wait_for(drive(base, out), TIME_LIMIT_S))
        cpu_after = idle_cpu(server.pid)
    except TimeoutError:
        out["errors"].append(f"did not finish within {TIME_LIMIT_S} s")
    except Exception as err:  # a failed expectation: report it with the figures so far
        out["errors"].append(f"{type(err).__name__}: {str(err).splitlines()[0]}")
    finally:
        probe.halt.set()
        probe.join()
        server.terminate()
        server.wait(10)
    total = time.monotonic() - started
    figures = {
        "sessions": 1 + TRAINERS + BROWSERS,
        "runs_finished": out["finished"], "runs_expected": TRAINERS, "runs_queued": out["queued"],
        "health_max_s": round(max(probe.health, default=float("nan")), 3),
        "health_p50_s": round(pct(probe.health, 0.5), 3),
        "health_p95_s": round(pct(probe.health, 0.95), 3),
        "page_html_max_s": round(max(probe.page, default=float("nan")), 3),
        "page_html_p95_s": round(pct(probe.page, 0.95), 3),
        "probes_over_bound": sum(t >= MAX_LATENCY_S for t in probe.health + probe.page),
        "probes": len(probe.health) + len(probe.page),
        "page_render_p50_s": round(pct(out["render_s"], 0.5), 2),
        "page_render_max_s": round(max(out["render_s"], default=float("nan")), 2),
        "peak_rss_mb": round(probe.peak_rss / 2**20), "rss_bound_mb": MAX_RSS_MB,
        "server_cpu_after_pct": round(cpu_after, 1), "total_s": round(total, 1),
        "cores": os.cpu_count(),
    }
    errors = list(out["errors"]) + probe.failures
    if out["finished"] != TRAINERS:
        errors.append(f"{out['finished']} of {TRAINERS} runs finished")
    slowest = max(figures["health_max_s"], figures["page_html_max_s"])
    if not slowest < MAX_LATENCY_S:
        errors.append(f"server answered slower than {MAX_LATENCY_S} s")
    if figures["peak_rss_mb"] >= MAX_RSS_MB:
        errors.append(f"peak RSS {figures['peak_rss_mb']} MB over {MAX_RSS_MB} MB")
    if not cpu_after < 30:  # the leaver's training would keep a core busy
        errors.append(f"server still busy ({cpu_after:.0f}% CPU) after every tab closed")
    width = max(map(len, figures))
    for key, value in figures.items():
        print(f"{key:<{width}}  {value}")
    print("runs seen per session:", out["runs_seen"])
    for err in errors:
        print("FAIL:", err)
    print(json.dumps(dict(figures, ok=not errors, errors=errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
