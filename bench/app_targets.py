"""Measure the app's targets with a real server and a real browser, on localhost only.

    python bench/app_targets.py                 # everything below
    python bench/app_targets.py --first-page    # only 1. (cold starts), for quick checks

1. Time from `streamlit run` to the first page rendered, median of 3 cold starts (a fresh
   server process and a fresh browser tab each time; the OS file cache is warm):
   - Home, the plain URL: its title, the dataset report and the "Training runs on" device line
     visible, and the page's script finished (no running state);
   - the same on a machine where the app has never run: an empty Streamlit disk cache (HOME
     pointed at a fresh folder), so the default dataset is built, not read back;
   - a deep link to /Train: its title visible and its script finished.
   The browser is already running when the clock starts, as a visitor's would be; the first
   request is sent as soon as the server's port accepts connections.
2. Page switches through the sidebar, each until the page's script has finished.
3. Names/s of a `fast`-preset LSTM trained on the Train page vs the CLI, same settings.
4. Server RSS (with children) after that run.
Prints a table and one JSON line.
"""

import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from localhost import ARGS, CHROMIUM, free_port, loadavg, tree_rss
from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
STEPS = 400  # a short run, long enough for a stable names/s
LINK = f"Train?preset=fast&cell=lstm&budget=steps&steps={STEPS}&time=0"
COLD_STARTS = 3
HOME_TITLE = "nameclf — where is this surname from?"
PAGES = ["Data", "Train", "Evaluate", "Predict", "Compare", "Padding_and_packing", "Speed_race",
         "Generate", "Padding_the_targets"]


def settle(page) -> None:
    """Until the page has a title and its script is no longer running."""
    expect(page.locator("h1").first).to_be_visible(timeout=60_000)
    idle = '[data-testid="stApp"]:not([data-test-script-state="running"])'
    expect(page.locator(f'{idle}:not([data-test-script-state="initial"])')).to_have_count(
        1, timeout=60_000)


def cli_speed(threads: int | None = None) -> float:
    env = dict(os.environ, **({"OMP_NUM_THREADS": str(threads)} if threads else {}))
    out = subprocess.run(
        [sys.executable, "-m", "nameclf", "train", "--preset", "fast", "--model", "lstm",
         "--steps", str(STEPS), "--quiet", "--out", "/tmp/nameclf-app-bench"],
        cwd=ROOT, capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout)["names_per_second"]


def start_server(port: int, **env: str) -> subprocess.Popen:
    """`streamlit run streamlit_app.py` on 127.0.0.1:port (the clock starts just before)."""
    return subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless",
         "true", "--server.port", str(port), "--server.address", "127.0.0.1"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=dict(os.environ, **env))


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(20)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def open_when_up(page, url: str, port: int, started: float) -> None:
    """Open `url` as soon as the server accepts connections (polled every 20 ms)."""
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            if time.monotonic() - started > 60:
                raise
            time.sleep(0.02)
    page.goto(url, timeout=60_000)


def home_rendered(page) -> None:
    """Home with its title, dataset report and device line shown, and its script finished."""
    expect(page.get_by_role("heading", name=HOME_TITLE)).to_be_visible(timeout=60_000)
    expect(page.get_by_text("In use:").first).to_be_visible(timeout=60_000)
    expect(page.get_by_text(re.compile(r"Training runs on \S+")).first).to_be_visible(
        timeout=60_000)
    settle(page)


def cold_start(browser, path: str, rendered, fresh_home: bool = False) -> float:
    """Seconds from `streamlit run` to `rendered(page)` for `path`, on a fresh server."""
    if fresh_home:  # a machine where the app never ran: nothing in ~/.streamlit
        with tempfile.TemporaryDirectory(prefix="nameclf-bench-home-") as home:
            return cold_start_in(browser, path, rendered, HOME=home)
    return cold_start_in(browser, path, rendered)


def cold_start_in(browser, path: str, rendered, **env: str) -> float:
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    port = free_port()
    started = time.monotonic()
    server = start_server(port, **env)
    try:
        open_when_up(page, f"http://127.0.0.1:{port}/{path}", port, started)
        rendered(page)
        return round(time.monotonic() - started, 2)
    finally:
        page.close()
        stop_server(server)


def first_pages(browser) -> dict:
    """Cold starts of Home and of the /Train deep link: every time, median, min, max."""
    out = {}
    for name, path, rendered, fresh_home in [
            ("home", "", home_rendered, False),
            ("home_never_run_before", "", home_rendered, True),
            ("train_link", LINK, settle, False)]:
        if not fresh_home:  # not timed: fills the OS and Streamlit's disk caches if empty
            cold_start(browser, path, rendered)
        times = [cold_start(browser, path, rendered, fresh_home) for _ in range(COLD_STARTS)]
        out[name] = dict(median=statistics.median(times), min=min(times), max=max(times),
                         runs=times)
    return out


def main() -> None:
    only_first = "--first-page" in sys.argv[1:]
    result = {"load_before": loadavg()}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        result["first_page_seconds"] = first_pages(browser)
        browser.close()
    if only_first:
        report_first(result)
        print(json.dumps(result))
        return
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    server = start_server(port)
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            open_when_up(page, f"{base}/{LINK}", port, started)
            settle(page)
            switches = {}
            for _ in range(2):  # the second round is what a visitor feels once warmed up
                for name in PAGES:
                    t0 = time.monotonic()
                    label = name.replace("_", " ")
                    page.locator('[data-testid="stSidebar"]').get_by_role(
                        "link", name=label, exact=True).click()
                    page.wait_for_url(re.compile(f"/{name}"))
                    settle(page)
                    switches[name] = round(time.monotonic() - t0, 2)
            result["page_switch_seconds"] = switches
            page.goto(f"{base}/{LINK}")
            settle(page)
            page.get_by_role("button", name="Start training").click()
            if os.environ.get("NAMECLF_BENCH_WATCH") != "1":
                # The browser shares this machine's 2 cores; its software-rendered live charts
                # would slow the server. Watch from a light page, as a visitor's own machine
                # would not compete with the server; NAMECLF_BENCH_WATCH=1 keeps watching.
                page.wait_for_timeout(1500)
                page.locator('[data-testid="stSidebar"]').get_by_role(
                    "link", name="Home", exact=True).click()
                settle(page)
                page.wait_for_timeout(1000 * int(os.environ.get("NAMECLF_BENCH_WAIT", "25")))
                page.locator('[data-testid="stSidebar"]').get_by_role(
                    "link", name="Train", exact=True).click()
                settle(page)
            caption = page.get_by_text(re.compile(r"\d[\d,]* steps in [\d.]+ s · [\d,]+ names/s"))
            expect(caption.first).to_be_visible(timeout=600_000)
            text = caption.first.inner_text()
            result["app_names_per_second"] = float(
                re.search(r"([\d,]+) names/s", text).group(1).replace(",", ""))
            result["server_rss_mb_after_run"] = round(tree_rss(server.pid) / 2**20, 1)
            browser.close()
    finally:
        stop_server(server)
    result["cli_names_per_second"] = round(cli_speed(), 1)
    result["cli_1_thread_names_per_second"] = round(cli_speed(threads=1), 1)
    result["app_over_cli"] = round(result["app_names_per_second"] /
                                   result["cli_names_per_second"], 3)
    result["load_after"] = loadavg()
    worst = max(result["page_switch_seconds"].values())
    report_first(result)
    print(f"slowest page switch    : {worst:.2f} s   (target <= 1 s)")
    print(f"app / CLI names/s      : {result['app_names_per_second']:,.0f} / "
          f"{result['cli_names_per_second']:,.0f} = {result['app_over_cli']:.0%}"
          "   (target >= 85%)")
    print(f"CLI with one torch thread, like the app: "
          f"{result['cli_1_thread_names_per_second']:,.0f} names/s")
    print(f"server RSS after a fast LSTM run: {result['server_rss_mb_after_run']:.0f} MB"
          "   (target <= 700 MB)")
    print(json.dumps(result))


def report_first(result: dict) -> None:
    for name, label in [("home", "Home (plain URL)"),
                        ("home_never_run_before", "Home, never run before"),
                        ("train_link", "/Train deep link")]:
        f = result["first_page_seconds"][name]
        print(f"first page, {label:22}: median {f['median']:.2f} s, min {f['min']:.2f}, "
              f"max {f['max']:.2f} over {COLD_STARTS} cold starts   (target <= 5 s)")
    print(f"load average before: {result['load_before']}"
          + (f", after: {result['load_after']}" if "load_after" in result else ""))


if __name__ == "__main__":
    main()
