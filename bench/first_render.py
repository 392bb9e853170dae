"""Seconds from `streamlit run` to each page rendered, as the very first request of a fresh server.

    python bench/first_render.py               # every page, median of 3 cold starts each
    python bench/first_render.py --runs 1 Predict Speed_race
    python bench/first_render.py --baseline /tmp/old   # and another checkout, side by side
    python bench/first_render.py --bare-each-run Data  # the bare page beside every run

With --baseline, the same pages of another checkout of the app (e.g. `git archive OLD | tar -x
-C /tmp/old`) are timed too, each run of a page alternating between the two trees, so both see
the same load; the table then gives both medians and their ratio. With --bare-each-run, the bare
page (below) is started beside every run of every page too, and the table gives each page's
median lead over it, run by run: on a shared machine whose load comes and goes, what a page
adds to the floor, at the load it was timed under.

For each page: start a fresh server, open the page's URL in headless Chromium as soon as the
port accepts connections, and stop the clock when the page's title is visible and its script
has finished. A bare two-line Streamlit page (a title and a line of text, in a temporary
folder) is timed the same way first, as the floor no page can beat. The browser is already
running when the clock starts, as a visitor's would be; the OS file cache is warm (one untimed
start first). Each start also gives the CPU seconds the server (from its launch) and Chromium
spent until then: the work a page costs, which a busy machine stretches less than the wall
clock (`cpu` in the table and JSON). Prints a table and one JSON line; the machine may be
shared (load shown).
"""

import argparse
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
from localhost import ARGS, CHROMIUM, free_port, loadavg, tree_cpu
from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["Home", "Lesson", "Data", "Train", "Evaluate", "Predict", "Compare",
         "Padding_and_packing", "Speed_race", "Generate", "Padding_the_targets"]
BARE = 'import streamlit as st\nst.title("Bare page")\nst.write("Two lines of Streamlit.")\n'
TARGET_S = 3.0


def settled(page) -> None:
    """The page's title is visible and its script is no longer running."""
    expect(page.locator("h1").first).to_be_visible(timeout=60_000)
    idle = ('[data-testid="stApp"]:not([data-test-script-state="running"])'
            ':not([data-test-script-state="initial"])')
    expect(page.locator(idle)).to_have_count(1, timeout=60_000)
    expect(page.locator('[data-testid="stException"]')).to_have_count(0)


def chromium_cpu() -> dict[int, float]:
    """CPU seconds (user + system) so far of each Chromium process this benchmark started."""
    found = {}
    for proc in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if "chrom" in proc.name().lower():
                found[proc.pid] = sum(proc.cpu_times()[:2])
    return found


def cold_start(browser, script: Path, path: str) -> tuple[float, float]:
    """Seconds from `streamlit run script` to `path` rendered, on a fresh server, and the CPU
    seconds the server and Chromium spent meanwhile (work done, whatever else the machine
    runs: steadier than the wall clock on a shared machine)."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    port = free_port()
    before = chromium_cpu()
    started = time.monotonic()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script.name, "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1"],
        cwd=script.parent, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=dict(os.environ))
    try:
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.02)
        page.goto(f"http://127.0.0.1:{port}/{path}", timeout=60_000)
        settled(page)
        seconds = round(time.monotonic() - started, 2)
        browser_cpu = sum(c - before.get(pid, 0.0) for pid, c in chromium_cpu().items())
        return seconds, round(tree_cpu(server.pid) + browser_cpu, 2)
    finally:
        page.close()
        server.terminate()
        server.wait(20)


def time_pages(browser, apps: dict[str, Path], pages: list[str], runs: int,
               bare: Path, bare_each_run: bool = False) -> dict:
    """Median seconds per page and tree, the runs of a page alternating between the trees
    (and the bare page, with `bare_each_run`)."""
    jobs = [("bare two-line page", {"": bare}, "")] + [
        (name, dict(apps), "" if name == "Home" else name)
        for name in pages]
    out: dict = {}
    for name, scripts, path in jobs:
        beside = bare_each_run and name != "bare two-line page"
        times: dict[str, list[float]] = {tree: [] for tree in scripts}
        cpu: dict[str, list[float]] = {tree: [] for tree in scripts}
        floor: list[float] = []
        floor_cpu: list[float] = []
        for _ in range(runs):
            for tree, script in scripts.items():
                seconds, spent = cold_start(browser, script, path)
                times[tree].append(seconds)
                cpu[tree].append(spent)
            if beside:
                seconds, spent = cold_start(browser, bare, "")
                floor.append(seconds)
                floor_cpu.append(spent)
        row = {tree: {"median": statistics.median(t), "runs": t,
                      "cpu_median": statistics.median(cpu[tree]), "cpu_runs": cpu[tree]}
               for tree, t in times.items()}
        out[name] = row[""] if list(row) == [""] else row
        cells = "   ".join(f"{tree + ': ' if tree else ''}{statistics.median(t):.2f} s "
                           f"(runs {t}; cpu {statistics.median(cpu[tree]):.2f} s)"
                           for tree, t in times.items())
        if len(times) == 2 and name != "bare two-line page":
            this, base = (statistics.median(t) for t in times.values())
            this_cpu, base_cpu = (statistics.median(c) for c in cpu.values())
            cells += f"   this ÷ baseline {this / base:.2f} (cpu {this_cpu / base_cpu:.2f})"
        if beside:  # each run's lead over the bare page started next to it
            lead = {tree: round(statistics.median(a - b for a, b in zip(t, floor)), 2)
                    for tree, t in times.items()}
            lead_cpu = {tree: round(statistics.median(a - b for a, b in zip(c, floor_cpu)), 2)
                        for tree, c in cpu.items()}
            out[name] = {"bare": {"median": statistics.median(floor), "runs": floor,
                                  "cpu_median": statistics.median(floor_cpu)},
                         "over_bare": lead, "cpu_over_bare": lead_cpu, **row}
            cells += (f"   bare beside: {statistics.median(floor):.2f} s (runs {floor}), over "
                      "it: " + ", ".join(f"{tree + ' ' if tree else ''}{x:+.2f} s"
                                         for tree, x in lead.items())
                      + "; cpu over it: " + ", ".join(f"{tree + ' ' if tree else ''}{x:+.2f} s"
                                                      for tree, x in lead_cpu.items()))
        print(f"{name:>22}: {cells}", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="*", default=PAGES, help="pages to time (URL names)")
    parser.add_argument("--runs", type=int, default=3, help="cold starts per page")
    parser.add_argument("--baseline", type=Path, default=None,
                        help="another checkout of the app to time side by side")
    parser.add_argument("--bare-each-run", action="store_true",
                        help="start the bare page beside every run too, and give each page's "
                             "lead over it (a shared machine's load comes and goes)")
    args = parser.parse_args()
    apps = {"": ROOT / "streamlit_app.py"}
    if args.baseline is not None:
        apps = {"this": apps[""], "baseline": args.baseline.resolve() / "streamlit_app.py"}
        if not apps["baseline"].is_file():
            parser.error(f"{args.baseline} holds no streamlit_app.py")
    result = {"load_before": loadavg(), "target_s": TARGET_S, "pages": {}}
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as tmp:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        bare = Path(tmp) / "bare.py"
        bare.write_text(BARE)
        for app in apps.values():
            cold_start(browser, app, "")  # untimed: warms the OS file cache (and disk caches)
        result["pages"] = time_pages(browser, apps, args.pages, args.runs, bare,
                                     args.bare_each_run)
        browser.close()
    result["load_after"] = loadavg()
    print(f"load average before {result['load_before']}, after {result['load_after']}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
