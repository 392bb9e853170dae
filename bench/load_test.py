"""Load test: 8 concurrent visitors against a real `streamlit run` on localhost.

    python bench/load_test.py              # visitors speak the app's websocket protocol
    python bench/load_test.py --browser    # visitors are headless Chromium contexts

By default each visitor is a small protocol client (bench/st_client.py): it opens pages,
presses buttons and follows fragment timers over `/_stcore/stream` exactly as the frontend
does, but draws nothing, so the server, not eight renderers, is what the 2 cores run.
8 sessions at once:
- 1 "leaver" starts a long training, sees it run, and closes its websocket: the session's end
  must stop its job and free the training slot (otherwise the trainers below stay queued);
- 3 "trainers" each train a tiny model from a Train-page link (queued first if the slot is
  taken), predict with it on Predict, and check Evaluate lists exactly their own run;
- 1 "racer" runs a short speed race, which waits in the same server-wide queue;
- 3 "browsers" walk Home, Data, Predict, Evaluate and Padding, and must see no runs at all.
A separate probe process times `/_stcore/health` and `GET /` (the page HTML) every 0.5 s and
samples the server's RSS (children included). Prints a table and one JSON line; exits 1 on any
failure. All traffic stays on 127.0.0.1; the visitors have TIME_LIMIT_S in all.
"""

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import os
import resource
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from localhost import free_port, loadavg, tree_rss  # noqa: E402
from st_client import Session  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TRAINERS, RACERS, BROWSERS = 3, 1, 3  # plus one leaver: 8 sessions
TINY = "preset=fast&hidden=16&emb=8&budget=steps&steps=100&batch=32&time=60"
LONG = "preset=fast&hidden=64&emb=16&budget=steps&steps=20000&batch=32&time=600"
BROWSE = ["", "Data", "Predict", "Evaluate", "Padding_and_packing"]
MAX_LATENCY_S = 2.0  # health check and page HTML must answer within this during the load
MAX_RSS_MB = 1500  # server RSS bound, children included
TIME_LIMIT_S = 170  # the visitors, all together
PROBE_EVERY_S = 0.5
DONE = r"completed after [\d,]+ steps"
QUEUED = r"Waiting for a free training slot"


def start_server(port: int, log: str | None = None) -> subprocess.Popen:
    """`streamlit run streamlit_app.py` on 127.0.0.1:port, answering its health check; its
    output goes to the file `log` if given."""
    out = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115 (the server keeps it)
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless",
         "true", "--server.port", str(port), "--server.address", "127.0.0.1"],
        cwd=ROOT, stdout=out, stderr=out)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit("the streamlit server did not start")


# -- the probe: its own process, so the visitors' event loop never delays a measurement -------

def probe(base: str, pid: int, halt, results) -> None:
    """Time the health check and the page HTML, and sample RSS, until `halt` is set."""
    out = dict(health=[], page=[], failures=[], peak_rss=0, worst=[])

    def timed(url: str, into: list[float]) -> None:
        started = time.monotonic()
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:
                answer.read()
            took = time.monotonic() - started
            into.append(took)
            if took >= MAX_LATENCY_S:  # when, to line it up with what the visitors did
                out["worst"].append((round(time.time(), 1), url.rsplit("/", 1)[-1] or "/",
                                     round(took, 2)))
        except OSError as err:
            out["failures"].append(f"{url}: {err}")

    while not halt.wait(PROBE_EVERY_S):
        out["peak_rss"] = max(out["peak_rss"], tree_rss(pid))
        timed(f"{base}/_stcore/health", out["health"])
        timed(f"{base}/", out["page"])
    results.put(out)


# -- the visitors, over the websocket protocol ------------------------------------------------

async def visit(name: str, base: str, out: dict, body) -> None:
    """One visitor's session; a failure becomes one error line naming the visitor."""
    session = Session(base, name)
    try:
        await session.connect()
        await body(session)
    except Exception as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        out["errors"].append(f"{name}: {first}")
    finally:
        await session.close()


async def timed_open(s: Session, out: dict, page: str, query: str = "") -> None:
    out["render_s"].append(await s.open(page, query))


async def runs_listed(s: Session, out: dict) -> list[str]:
    """The run ids Evaluate offers this session (empty if it has none)."""
    await timed_open(s, out, "Evaluate")
    if s.seen("No trained model yet"):
        return []
    boxes = s.options()
    return boxes[0] if boxes else ["?"]


async def leaver(s: Session, out: dict) -> None:
    """Start a long training, see it running, then close the connection mid-training."""
    await timed_open(s, out, "Train", LONG)
    await s.click("Start training")
    await s.wait_for("names/s")
    out["left_at"] = time.monotonic()
    # Session.close() (in visit) closes the websocket: Streamlit releases the session's jobs


async def trainer(s: Session, out: dict, i: int) -> None:
    """Train a tiny model (queued first if need be), predict with it, see only that run."""
    await timed_open(s, out, "Train", TINY)
    await s.click("Start training")
    first = await s.wait_for(f"{QUEUED}|names/s|{DONE}")
    out["queued"] += first.startswith("Waiting")
    await s.wait_for(DONE, timeout=150)
    out["finished"] += 1
    await timed_open(s, out, "Predict")
    if not s.seen(r"\*\*Nakamura\*\*"):  # an example name's header: predicted with this run
        out["errors"].append(f"trainer {i}: Predict showed no prediction")
    listed = await runs_listed(s, out)
    if len(listed) != 1:  # its own run only (every session numbers its runs from 1)
        out["errors"].append(f"trainer {i} sees runs {listed}")
    out["runs_seen"][f"trainer{i}"] = listed


async def racer(s: Session, out: dict, i: int, trainers_done: asyncio.Event) -> None:
    """Run a speed race (it queues for the same slot as trainings); never see a run."""
    await timed_open(s, out, "Speed_race")
    await s.click("Start the race")
    first = await s.wait_for(f"{QUEUED}|Racing|Starting the race")
    out["races_queued"] += first.startswith("Waiting")
    await s.wait_for("packed ÷ padded", timeout=150)  # the result metrics
    out["races"] += 1
    await trainers_done.wait()
    listed = await runs_listed(s, out)
    if listed:
        out["errors"].append(f"racer {i} sees another session's runs {listed}")
    out["runs_seen"][f"racer{i}"] = listed


async def browser(s: Session, out: dict, i: int, trainers_done: asyncio.Event) -> None:
    """Walk the pages once, stay until the trainers are done; never see a run."""
    for path in BROWSE:
        await timed_open(s, out, path)
    await trainers_done.wait()  # the session stays open meanwhile
    listed = await runs_listed(s, out)
    if listed:
        out["errors"].append(f"browser {i} sees another session's runs {listed}")
    out["runs_seen"][f"browser{i}"] = listed


async def protocol_drive(base: str, out: dict) -> None:
    await visit("leaver", base, out, lambda s: leaver(s, out))  # holds the slot till it leaves
    trainers_done = asyncio.Event()

    async def trainers() -> None:
        await asyncio.gather(*(visit(f"trainer {i}", base, out,
                                     lambda s, i=i: trainer(s, out, i))
                               for i in range(TRAINERS)))
        trainers_done.set()

    await asyncio.gather(
        trainers(),
        *(visit(f"racer {i}", base, out, lambda s, i=i: racer(s, out, i, trainers_done))
          for i in range(RACERS)),
        *(visit(f"browser {i}", base, out, lambda s, i=i: browser(s, out, i, trainers_done))
          for i in range(BROWSERS)))


async def browser_drive(base: str, out: dict) -> None:
    from load_browser import drive

    plan = dict(tiny=f"Train?{TINY}", long=f"Train?{LONG}", browse=BROWSE, trainers=TRAINERS,
                browsers=RACERS + BROWSERS)  # no racer in Chromium: one more browser
    await drive(base, out, plan)


# -- the run ----------------------------------------------------------------------------------

def cpu_seconds(pid: int) -> float:
    procs = [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]
    return sum(sum(p.cpu_times()[:2]) for p in procs)


def idle_cpu(pid: int, seconds: float = 3.0) -> float:
    """The server's CPU use (percent of one core, children included) over a few seconds."""
    before = cpu_seconds(pid)
    time.sleep(seconds)
    return 100 * (cpu_seconds(pid) - before) / seconds


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--browser", action="store_true",
                        help="drive the visitors with headless Chromium instead")
    args = parser.parse_args()
    started = time.monotonic()
    load_before = loadavg()
    port = free_port()
    server = start_server(port)
    base = f"http://127.0.0.1:{port}"
    ctx = mp.get_context("spawn")
    halt, results = ctx.Event(), ctx.Queue()
    prober = ctx.Process(target=probe, args=(base, server.pid, halt, results), daemon=True)
    out = dict(render_s=[], queued=0, finished=0, races=0, races_queued=0, errors=[],
               runs_seen={})
    cpu_after, server_cpu, drive_s = float("nan"), float("nan"), float("nan")
    found = dict(health=[], page=[], failures=["the probe returned nothing"], peak_rss=0,
                 worst=[])
    try:
        prober.start()
        cpu_before, drive_started = cpu_seconds(server.pid), time.monotonic()
        drive = browser_drive if args.browser else protocol_drive
        asyncio.run(asyncio.wait_for(drive(base, out), TIME_LIMIT_S))
        drive_s = time.monotonic() - drive_started
        server_cpu = (cpu_seconds(server.pid) - cpu_before) / drive_s
        cpu_after = idle_cpu(server.pid)
    except TimeoutError:
        out["errors"].append(f"the visitors did not finish within {TIME_LIMIT_S} s")
    except Exception as err:  # report it with the figures so far
        out["errors"].append(f"{type(err).__name__}: {str(err).splitlines()[0]}")
    finally:
        halt.set()
        with contextlib.suppress(Exception):
            found = results.get(timeout=15)
        prober.join(5)
        server.terminate()
        server.wait(10)
    own = resource.getrusage(resource.RUSAGE_SELF)
    expected_races = 0 if args.browser else RACERS
    health, page = found["health"], found["page"]
    figures = {
        "mode": "chromium" if args.browser else "protocol",
        "sessions": 1 + TRAINERS + RACERS + BROWSERS,
        "runs_finished": out["finished"], "runs_expected": TRAINERS,
        "runs_queued": out["queued"], "races_finished": out["races"],
        "races_queued": out["races_queued"],
        "health_p50_s": round(pct(health, 0.5), 3),
        "health_p95_s": round(pct(health, 0.95), 3),
        "health_max_s": round(max(health, default=float("nan")), 3),
        "page_html_p50_s": round(pct(page, 0.5), 3),
        "page_html_p95_s": round(pct(page, 0.95), 3),
        "page_html_max_s": round(max(page, default=float("nan")), 3),
        "probes_over_bound": sum(t >= MAX_LATENCY_S for t in health + page),
        "probes": len(health) + len(page),
        "script_run_p50_s": round(pct(out["render_s"], 0.5), 2),
        "script_run_max_s": round(max(out["render_s"], default=float("nan")), 2),
        "peak_rss_mb": round(found["peak_rss"] / 2**20), "rss_bound_mb": MAX_RSS_MB,
        "server_cpu_during_load_cores": round(server_cpu, 2),
        "visitors_cpu_s": round(own.ru_utime + own.ru_stime, 1),  # Chromium's not included
        "server_cpu_after_pct": round(cpu_after, 1),
        "load_s": round(drive_s, 1), "total_s": round(time.monotonic() - started, 1),
        "cores": os.cpu_count(), "loadavg_before": load_before, "loadavg_after": loadavg(),
    }
    errors = list(out["errors"]) + found["failures"]
    if out["finished"] != TRAINERS:
        errors.append(f"{out['finished']} of {TRAINERS} runs finished")
    if out["races"] != expected_races:
        errors.append(f"{out['races']} of {expected_races} races finished")
    slowest = max(figures["health_max_s"], figures["page_html_max_s"])
    if not slowest < MAX_LATENCY_S:
        errors.append(f"server answered slower than {MAX_LATENCY_S} s "
                      f"(slowest probes: {found['worst'][:5]})")
    if not figures["peak_rss_mb"] < MAX_RSS_MB:
        errors.append(f"peak RSS {figures['peak_rss_mb']} MB over {MAX_RSS_MB} MB")
    if not cpu_after < 30:  # the leaver's training would keep a core busy
        errors.append(f"server still busy ({cpu_after:.0f}% CPU) after every visitor left")
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
