"""The real app in a real browser: a deep link first, training, Stop, every page, n-grams.

Starts `streamlit run` on a free local port and drives it with Playwright's Chromium.
Set NAMECLF_SHOTS=1 to save a screenshot of every page to /tmp/shots/.
"""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from tests.conftest import CHROMIUM, PAGES, ROOT, tiny_names

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = Path("/tmp/shots")
EXCEPTION = '[data-testid="stException"]'
# a small, quick setup for the link the first request opens
TRAIN_LINK = "Train?preset=fast&hidden=32&emb=16&budget=steps&steps=3000&batch=32&time=60"


def url_path(page: str) -> str:
    """Streamlit's URL for pages/3_Evaluate.py is /Evaluate."""
    return re.sub(r"^\d+_", "", Path(page).stem)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """A fresh `streamlit run` of the app; killed at the end."""
    port = free_port()
    env = dict(os.environ, OMP_NUM_THREADS="1")  # tiny models; robust on a busy machine
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"{base}/_stcore/health", timeout=2).status == 200:
                break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("the streamlit server did not start")
    yield base
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def page():
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        tab = browser.new_page(viewport={"width": 1400, "height": 2000})
        tab.set_default_timeout(60_000)
        yield tab
        browser.close()


def settle(page: Page) -> None:
    """Wait until the page has a title and the script is no longer running."""
    expect(page.locator("h1").first).to_be_visible(timeout=60_000)
    page.wait_for_timeout(300)
    idle = '[data-testid="stApp"]:not([data-test-script-state="running"])'
    expect(page.locator(f'{idle}:not([data-test-script-state="initial"])')).to_have_count(
        1, timeout=60_000)
    expect(page.locator('[data-testid="stSpinner"]')).to_have_count(0, timeout=60_000)
    page.wait_for_timeout(300)


def check(page: Page, name: str) -> None:
    """No exception box on the page; keep a screenshot if asked."""
    assert page.locator(EXCEPTION).count() == 0, f"exception shown on {name}"
    if os.environ.get("NAMECLF_SHOTS"):
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def open_from_sidebar(page: Page, path: str) -> None:
    """Switch page like a visitor does, keeping the session."""
    label = path.replace("_", " ")
    link = page.locator('[data-testid="stSidebar"]').get_by_role("link", name=label, exact=True)
    link.click()
    page.wait_for_url(re.compile(f"/{path}"))
    settle(page)


@pytest.mark.timeout(420)
def test_the_app_in_a_browser(server, page):
    started = time.monotonic()
    page.goto(f"{server}/{TRAIN_LINK}")  # the very first request is a deep link
    settle(page)
    print(f"first page (deep link, cold server) ready in {time.monotonic() - started:.1f} s")
    expect(page.get_by_text("Start training")).to_be_visible()
    check(page, "2_Train_settings")

    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_text(re.compile(r"names/s"))).to_be_visible(timeout=90_000)
    page.wait_for_timeout(4000)  # let the curves grow a little
    check(page, "2_Train_live")
    page.get_by_role("button", name="Stop").click()
    try:
        expect(page.get_by_text(re.compile(r"stopped after [\d,]+ steps"))).to_be_visible(
            timeout=60_000)
    finally:
        check(page, "2_Train_after_stop")
    settle(page)
    expect(page.get_by_text("Download checkpoint")).to_be_visible()
    check(page, "2_Train_done")

    for i, page_file in enumerate(["streamlit_app.py", *PAGES]):
        path = "" if page_file == "streamlit_app.py" else url_path(page_file)
        started = time.monotonic()
        if path:
            open_from_sidebar(page, path)
        else:
            sidebar = page.locator('[data-testid="stSidebar"]')
            sidebar.get_by_role("link", name="Home", exact=True).click()
            settle(page)
        print(f"{page_file}: {time.monotonic() - started:.1f} s")
        check(page, f"{i}_{path or 'Home'}")
        if path == "Compare":  # the race (3 cells + n-grams): watch it start, then stop it
            page.get_by_role("button", name="Train RNN, LSTM and GRU").click()
            expect(page.get_by_text(re.compile(r"rnn \(1/[34]\).*names/s"))).to_be_visible(
                timeout=90_000)
            check(page, f"{i}_Compare_live")
            page.get_by_role("button", name="Stop").click()
            # every cell trains the same number of steps, so which one Stop lands in depends on
            # the machine's speed (an idle one finishes all three cells in about 3 s): a cell
            # ends "stopped", the n-gram fit is stopped before it learned anything, or Stop
            # lands between two cells and the page names those not trained
            expect(page.get_by_text(re.compile(
                r"run\d+-(rnn|lstm|gru) · stopped|Stopped before run\d+-ngram learned anything"
                r"|Stopped before run\d+-[\w, -]+ started")).first  # a stopped cell names the rest
            ).to_be_visible(timeout=60_000)
            settle(page)
            check(page, f"{i}_Compare_done")

    # a visitor's own file, then a broken one: the report, then an error and nothing lost
    page.locator('[data-testid="stSidebar"]').get_by_role("link", name="Home", exact=True).click()
    settle(page)
    page.get_by_text("Your own file").click()
    settle(page)
    upload = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
    upload.set_input_files(files=[{"name": "mine.txt", "mimeType": "text/plain",
                                   "buffer": tiny_names()}])
    expect(page.get_by_text(re.compile(r"120 names in 3 labels from mine.txt"))).to_be_visible()
    settle(page)
    check(page, "9_Home_upload")
    upload.set_input_files(files=[{"name": "bad.txt", "mimeType": "text/plain",
                                   "buffer": b"no separator\nnone here either\n"}])
    expect(page.get_by_text(re.compile(r"bad.txt was not loaded"))).to_be_visible()
    settle(page)
    expect(page.get_by_text(re.compile(r"upload:mine.txt"))).to_be_visible()
    check(page, "9_Home_bad_upload")

    # labels are shown as typed: markdown and HTML in a visitor's file are never rendered
    upload.set_input_files(files=[{"name": "md_*x*.txt", "mimeType": "text/plain",
                                   "buffer": b"Abc, **bold** <b>b</b> :red[r]\n"
                                             b"Def, **bold** <b>b</b> :red[r]\n"}])
    alert = page.locator('[data-testid="stAlert"]').filter(has_text="md_")
    expect(alert).to_contain_text("md_*x*.txt was not loaded")
    expect(alert).to_contain_text("only one label ('**bold** <b>b</b> :red[r]')")
    settle(page)
    check(page, "9_Home_markdown_labels")

    # the n-gram baseline on that file, fitted in its child process of the real server
    open_from_sidebar(page, "Train")
    page.get_by_text("ngram (TF-IDF + logistic regression)").click()
    settle(page)
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_text(re.compile(r"run\d+-ngram: completed, fitted in"))).to_be_visible(
        timeout=90_000)
    settle(page)
    check(page, "9_Train_ngram_done")

    # a GRU with the n-gram model mixed in: the slider moved with the keyboard, as a person can
    page.get_by_text("gru", exact=True).click()
    settle(page)
    mix = page.locator('[data-testid="stSlider"]').filter(has_text="Mix in the n-gram")
    mix.get_by_role("slider").focus()
    for _ in range(6):  # 0.05 a step
        page.keyboard.press("ArrowRight")
    settle(page)
    expect(mix).to_contain_text("0.30")
    # no time limit, so that a busy machine cannot leave the n-gram fit no time to mix in
    limit = page.get_by_label("Time limit in seconds (0 = none)")
    limit.fill("0")
    limit.press("Enter")
    settle(page)
    expect(limit).to_have_value("0")
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_text(re.compile(r"run\d+-gru-ngram: completed after"))).to_be_visible(
        timeout=120_000)
    expect(page.get_by_text(re.compile(r"70% GRU \+ 30% n-gram model, mixed"))).to_be_visible()
    settle(page)
    check(page, "9_Train_mixture_done")
