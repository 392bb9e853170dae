"""A class on one small server: 30 visitors of a shared link, or 200 one after another.

    python bench/classroom.py            # the class: 30 visitors at once
    python bench/classroom.py --soak 200 # 200 visitors come, train a small model, and go
    python bench/classroom.py --lesson   # 30 learners go through the Lesson page at once
    python bench/classroom.py --lesson --class-link  # ... on a teacher's class link

Every visitor is a protocol client (bench/st_client.py) of a real `streamlit run` on
127.0.0.1; nothing leaves the machine. The class: 20 visitors press Home's "Train with the
recommended settings" within 5 s of each other, then 10 train small settings of their own
(their own seeds) over the next 5 s, and all of them then open Predict and Evaluate. It
prints each visitor's seconds from Start to a model, whether a queued visitor was told its
wait, page latency (the probe's `GET /` and every page's script run) and peak RSS, and
checks that every visitor ends with exactly their own run and no one sees another's.
The soak: visitors one at a time, each training a small model of its own seed and leaving;
the server's RSS after the first 10 and after the last must be within SOAK_GROWTH_MB.
The lesson: 30 learners open the Lesson page within 10 s of each other (their names in the
link), answer every question of chapters 1-4 and 8 right (or press *Show me the answer*), and
answer chapters 5-7's, which start the class's speed race, gradient measurement and training
run (identical settings share one job; the rest watch or queue, told their wait). It prints
the seconds from each Check to its reveal (those needing no training), to the race's, the
measurement's and the run's result,
and the same page and memory figures. Bounded: TIME_LIMIT_S for the class and the lesson,
SOAK_LIMIT_S for the soak.
"""

import argparse
import asyncio
import contextlib
import json
import multiprocessing as mp
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load_test import pct, probe, start_server  # noqa: E402
from localhost import free_port, loadavg, tree_rss  # noqa: E402
from st_client import Session  # noqa: E402

RECOMMENDED, OWN = 20, 10
OWN_SETTINGS = "preset=fast&hidden=32&emb=16&budget=steps&steps=150&batch=32&seed={seed}"
SOAK_SETTINGS = "preset=fast&hidden=16&emb=8&budget=steps&steps=20&batch=32&seed={seed}"
DONE = r"completed after [\d,]+ steps"
WAIT_TOLD = r"you are number \d+ in the queue, about [\d,]+ s to go"
TARGET_MODEL_S = 60.0  # every recommended visitor has a model this soon after Start
MAX_PAGE_P95_S = 2.0
MAX_RSS_MB = 1500
SOAK_GROWTH_MB = 100
TIME_LIMIT_S = 420
SOAK_LIMIT_S = 1500
LEARNERS = 30
LESSON_LINK = "names=Ram,Shyam,Al&ch=1"
# the right answers for Ram, Shyam, Al (None: "Show me the answer"); chapters in order
LESSON_ANSWERS = {1: {"1a": 1, "1b": 10}, 2: {"2a": 5, "2b": None},
                  3: {"3a": 0, "3b": 1}, 4: {"4a": 2, "4b": 2, "4c": 2}}
MAX_REVEAL_P95_S = 2.0
MAX_CLASS_LAG_S = 2.0  # the class view shows an answer this soon


async def own_runs(s: Session) -> list[str]:
    """The run ids Evaluate offers this visitor."""
    await s.open("Evaluate")
    if s.seen("No trained model yet"):
        return []
    boxes = s.options()
    return boxes[0] if boxes else ["?"]


async def browse_after(s: Session, out: dict, name: str, seed: int) -> None:
    """Predict with the visitor's model, then Evaluate: exactly their own run, their seed."""
    out["page_s"].append(await s.open("Predict"))
    if not s.seen(r"\*\*Nakamura\*\*"):
        out["errors"].append(f"{name}: Predict showed no prediction")
    started = time.monotonic()
    listed = await own_runs(s)
    out["page_s"].append(time.monotonic() - started)
    if len(listed) != 1:
        out["errors"].append(f"{name} sees runs {listed}")
    if not s.seen(rf"seed {seed}\)"):  # Evaluate's caption names the split's seed
        out["errors"].append(f"{name}: Evaluate is not about a seed-{seed} run")
    out["seen"][name] = listed


async def recommended(s: Session, out: dict, i: int, delay: float) -> None:
    await asyncio.sleep(delay)
    out["page_s"].append(await s.open(""))
    started = time.monotonic()
    await s.click("Train with the recommended settings")  # Train opens, and training starts
    first = await s.wait_for(rf"Waiting for a free|names/s|{DONE}|exactly these settings",
                             timeout=120)
    await s.wait_for(DONE, timeout=TIME_LIMIT_S, since_connect=True)
    took = time.monotonic() - started
    how = ("given" if s.seen("ago on this server") else
           "joined" if any("exactly these settings" in t for t in s.log) else "trained")
    out["recommended"].append(dict(visitor=i, start_to_model_s=round(took, 1), how=how,
                                   first=first[:40]))
    await browse_after(s, out, f"recommended {i}", 0)


async def own(s: Session, out: dict, i: int, delay: float) -> None:
    seed = 100 + i
    await asyncio.sleep(delay)
    out["page_s"].append(await s.open("Train", OWN_SETTINGS.format(seed=seed)))
    started = time.monotonic()
    await s.click("Start training")
    first = await s.wait_for(rf"Waiting for a free training slot[^\"]*|names/s|{DONE}",
                             timeout=120)
    queued = first.startswith("Waiting")
    told = False
    while queued and not s.seen(DONE):  # read what the queue says while it waits
        if any(re.search(WAIT_TOLD, t) for t in s.log):
            told = True
            break
        if any("names/s" in t for t in s.texts):
            break
        await asyncio.sleep(0.5)
    await s.wait_for(DONE, timeout=TIME_LIMIT_S, since_connect=True)
    out["own"].append(dict(visitor=i, start_to_model_s=round(time.monotonic() - started, 1),
                           queued=queued, told_wait=told))
    await browse_after(s, out, f"own {i}", seed)


THINK_S = 0.0  # mean seconds a learner reads before each answer (--think)


async def reveal(s: Session, out: dict, name: str, qid: str, value) -> None:
    """Answer one question (or ask for the answer) and time Check to the reveal."""
    await asyncio.sleep(random.uniform(0, 2 * THINK_S))
    if qid == "8a":  # the class view cannot count this answer before its Check is sent
        out["last_answer_at"] = max(out.get("last_answer_at", 0.0), time.monotonic())
    took = (await s.click_key(f"lesson_skip_{qid}") if value is None else
            await s.answer(f"lesson_in_{qid}", value, f"lesson_check_{qid}"))
    out["reveal_s"].append(took)
    out["reveal_by_q"].setdefault(qid, []).append(round(took, 2))
    if value is not None and not s.seen(r"Right: "):
        out["errors"].append(f"{name}: question {qid} did not say right")
    if s.seen("Something went wrong"):
        out["errors"].append(f"{name}: the page failed at question {qid}")


async def learner(s: Session, out: dict, i: int, delay: float, link: str = "") -> None:
    name = f"learner {i}"
    await asyncio.sleep(delay)
    out["page_s"].append(await s.open("Lesson", LESSON_LINK + (f"&{link}" if link else "")))
    for answers in LESSON_ANSWERS.values():
        for qid, value in answers.items():
            await reveal(s, out, name, qid, value)
        out["page_s"].append(await s.click_key("lesson_next"))
    for key, measured, done in (("race_s", {"5a": 3, "5b": 1}, r"Your race: "),
                                ("noise_s", {"6a": 0, "6b": 0}, r"Your measurement"),
                                ("train_s", {"7a": 2, "7b": 1}, DONE)):
        started = time.monotonic()
        for qid, value in measured.items():
            await s.answer(f"lesson_in_{qid}", value, f"lesson_check_{qid}")
        await s.wait_for(done, timeout=TIME_LIMIT_S)
        out[key].append(round(time.monotonic() - started, 1))
        out["page_s"].append(await s.click_key("lesson_next"))
    log = " ".join(s.log)
    out["told_wait"] += bool(re.search(WAIT_TOLD, log))
    out["shared_race"] += "exactly these settings, for another learner" in log or (
        "Another learner on this server is racing" in log)
    await reveal(s, out, name, "8a", 13)
    await reveal(s, out, name, "8b", None)
    out["page_s"].append(await s.click_key("lesson_next"))
    if not s.seen("Right at first try"):
        out["errors"].append(f"{name}: no summary")
    out["finished"] += 1


CLASS_SEEN = r"Question 8a\*\* · {n} first answers"  # the class view counted every 8a


async def make_class(base: str) -> tuple[str, str]:
    """A teacher opens the Lesson page and makes a class link: (class query, teacher query)."""
    t = Session(base, "teacher")
    try:
        await t.connect()
        await t.open("Lesson")
        await t.click_key("class_make")
        found = " ".join(t.texts)
        learner = re.search(r"\?(cls=[\w-]+&cch=[^\"\s]+)", found).group(1)
        teacher = re.search(r"\?(cls=[\w-]+&key=[\w-]+)", found).group(1)
        return learner, teacher
    finally:
        await t.close()


async def class_view(base: str, out: dict, teacher: str, n: int, done: asyncio.Event) -> None:
    """The teacher's class view, open (refreshing itself) while the class goes through."""
    s = Session(base, "class view")
    try:
        await s.connect()
        await s.open("Lesson", teacher)
        # polled every 0.2 s from the start: the moment the view counts the 30th 8a answer
        seen = await s.wait_for(CLASS_SEEN.format(n=n), timeout=TIME_LIMIT_S, since_connect=True)
        out["class_view_lag_s"] = round(time.monotonic() - out["last_answer_at"], 2)
        await done.wait()
        out["class_view_saw"] = seen
        out["class_view_learners"] = int(re.findall(r"(\d+) learners in this class",
                                                    " ".join(s.log))[-1])
    except Exception as err:
        out["errors"].append(f"class view: {str(err).splitlines()[0] if str(err) else err!r}")
    finally:
        await s.close()


async def the_lesson(base: str, out: dict, n: int, with_class: bool = False) -> None:
    rng = random.Random(0)
    link, teacher, done = "", "", asyncio.Event()
    if with_class:
        link, teacher = await make_class(base)
    view = asyncio.create_task(class_view(base, out, teacher, n, done)) if with_class else None
    await asyncio.gather(*(visitor(base, f"learner {i}", out,
                                   lambda s, i=i: learner(s, out, i, rng.uniform(0, 10), link))
                           for i in range(n)))
    done.set()
    if view is not None:
        await view


async def visitor(base: str, name: str, out: dict, body) -> None:
    s = Session(base, name)
    try:
        await s.connect()
        await body(s)
    except Exception as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        out["errors"].append(f"{name}: {first}")
    finally:
        await s.close()


async def the_class(base: str, out: dict) -> None:
    rng = random.Random(0)
    await asyncio.gather(
        *(visitor(base, f"recommended {i}", out,
                  lambda s, i=i: recommended(s, out, i, rng.uniform(0, 5)))
          for i in range(RECOMMENDED)),
        *(visitor(base, f"own {i}", out, lambda s, i=i: own(s, out, i, 5 + rng.uniform(0, 5)))
          for i in range(OWN)))


async def soak(base: str, out: dict, n: int, pid: int) -> None:
    for i in range(n):
        async def body(s, i=i):
            await s.open("Train", SOAK_SETTINGS.format(seed=1000 + i))
            await s.click("Start training")
            await s.wait_for(DONE, timeout=120, since_connect=True)
            await s.open("Predict")
        await visitor(base, f"soak {i}", out, body)
        if i + 1 in (10, n) or (i + 1) % 25 == 0:
            out["rss_mb"][i + 1] = round(tree_rss(pid) / 2**20)
            print(f"after {i + 1} visitors: RSS {out['rss_mb'][i + 1]} MB", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--soak", type=int, default=0, metavar="N",
                        help="instead of the class, N visitors one after another")
    parser.add_argument("--lesson", type=int, nargs="?", const=LEARNERS, default=0,
                        metavar="N", help=f"instead of the class, N learners (default "
                                          f"{LEARNERS}) through the lesson")
    parser.add_argument("--think", type=float, default=0.0, metavar="S",
                        help="with --lesson: a learner reads S seconds on average before each "
                             "answer (0: answers at once, the harshest load)")
    parser.add_argument("--class-link", action="store_true",
                        help="with --lesson: a teacher makes a class link first, the learners "
                             "open it, and the teacher's class view must count every answer")
    parser.add_argument("--server-log", metavar="FILE", help="keep the server's output here")
    args = parser.parse_args()
    global THINK_S
    THINK_S = args.think
    load_before, port = loadavg(), free_port()
    server = start_server(port, args.server_log)
    base = f"http://127.0.0.1:{port}"
    ctx = mp.get_context("spawn")
    halt, results = ctx.Event(), ctx.Queue()
    prober = ctx.Process(target=probe, args=(base, server.pid, halt, results), daemon=True)
    out = dict(recommended=[], own=[], page_s=[], errors=[], seen={}, rss_mb={}, reveal_s=[],
               race_s=[], noise_s=[], train_s=[], told_wait=0, shared_race=0, finished=0,
               reveal_by_q={})
    found = dict(health=[], page=[], failures=["the probe returned nothing"], peak_rss=0)
    started = time.monotonic()
    try:
        prober.start()
        limit = SOAK_LIMIT_S if args.soak else TIME_LIMIT_S
        drive = (soak(base, out, args.soak, server.pid) if args.soak else
                 the_lesson(base, out, args.lesson, args.class_link) if args.lesson else
                 the_class(base, out))
        asyncio.run(asyncio.wait_for(drive, limit))
    except TimeoutError:
        out["errors"].append(f"the visitors did not finish within {limit} s")
    finally:
        halt.set()
        with contextlib.suppress(Exception):
            found = results.get(timeout=15)
        prober.join(5)
        server.terminate()
        server.wait(10)
    errors = list(out["errors"]) + found["failures"]
    page = found["page"]
    mode = (f"soak {args.soak}" if args.soak else
            f"lesson {args.lesson}, think {args.think:g} s" if args.lesson else "class")
    figures = dict(mode=mode,
                   page_html_p50_s=round(pct(page, 0.5), 3),
                   page_html_p95_s=round(pct(page, 0.95), 3),
                   page_html_max_s=round(max(page, default=float("nan")), 3),
                   script_run_p50_s=round(pct(out["page_s"], 0.5), 2),
                   script_run_p95_s=round(pct(out["page_s"], 0.95), 2),
                   peak_rss_mb=round(found["peak_rss"] / 2**20), total_s=round(
                       time.monotonic() - started, 1),
                   loadavg_before=load_before, loadavg_after=loadavg())
    if args.soak:
        rss = out["rss_mb"]
        figures.update(rss_after_mb=rss)
        if 10 in rss and args.soak in rss:
            growth = rss[args.soak] - rss[10]
            figures["soak_growth_mb"] = growth
            if growth > SOAK_GROWTH_MB:
                errors.append(f"RSS grew {growth} MB after the first 10 visitors")
        else:
            errors.append("the soak did not reach its last visitor")
    elif args.lesson:
        reveal_p95 = pct(out["reveal_s"], 0.95)
        figures.update(learners_finished=out["finished"], reveals=len(out["reveal_s"]),
                       check_to_reveal_p50_s=round(pct(out["reveal_s"], 0.5), 2),
                       check_to_reveal_p95_s=round(reveal_p95, 2),
                       race_p50_s=pct(out["race_s"], 0.5),
                       race_max_s=max(out["race_s"], default=float("nan")),
                       noise_p50_s=pct(out["noise_s"], 0.5),
                       noise_max_s=max(out["noise_s"], default=float("nan")),
                       train_p50_s=pct(out["train_s"], 0.5),
                       train_max_s=max(out["train_s"], default=float("nan")),
                       learners_told_a_wait=out["told_wait"],
                       learners_shown_a_shared_race=out["shared_race"],
                       check_to_reveal_max_by_question={q: max(v) for q, v in
                                                        out["reveal_by_q"].items()})
        if args.class_link:
            lag = out.get("class_view_lag_s", float("nan"))
            figures.update(class_view_learners=out.get("class_view_learners"),
                           class_view_lag_after_last_check_s=lag)
            if out.get("class_view_learners") != args.lesson:
                errors.append(f"the class view counted {out.get('class_view_learners')} "
                              f"learners, not {args.lesson}")
            if not lag <= MAX_CLASS_LAG_S:
                errors.append(f"the class view showed the last answer {lag} s after it")
        if out["finished"] != args.lesson:
            errors.append(f"{out['finished']}/{args.lesson} learners reached the summary")
        if not reveal_p95 <= MAX_REVEAL_P95_S:
            errors.append(f"Check to reveal p95 {reveal_p95:.2f} s")
    else:
        rec = sorted(out["recommended"], key=lambda r: r["visitor"])
        mine = sorted(out["own"], key=lambda r: r["visitor"])
        for row in rec + mine:
            print(row)
        times = [r["start_to_model_s"] for r in rec]
        figures.update(recommended_done=len(rec), own_done=len(mine),
                       recommended_max_s=max(times, default=float("nan")),
                       recommended_p50_s=pct(times, 0.5),
                       own_max_s=max((r["start_to_model_s"] for r in mine), default=float("nan")),
                       own_queued=sum(r["queued"] for r in mine),
                       own_told_wait=sum(r["told_wait"] for r in mine),
                       how={h: sum(r["how"] == h for r in rec)
                            for h in ("trained", "joined", "given")})
        if len(rec) != RECOMMENDED or len(mine) != OWN:
            errors.append(f"{len(rec)}/{RECOMMENDED} recommended and {len(mine)}/{OWN} own "
                          "visitors got a model")
        if times and max(times) > TARGET_MODEL_S:
            errors.append(f"a recommended visitor waited {max(times)} s for a model")
        if any(r["queued"] and not r["told_wait"] for r in mine):
            errors.append("a queued visitor was not told its wait")
    if not figures["page_html_p95_s"] <= MAX_PAGE_P95_S:
        errors.append(f"page HTML p95 {figures['page_html_p95_s']} s")
    if not figures["peak_rss_mb"] <= MAX_RSS_MB:
        errors.append(f"peak RSS {figures['peak_rss_mb']} MB")
    width = max(map(len, figures))
    for k, v in figures.items():
        print(f"{k:<{width}}  {v}")
    for err in errors:
        print("FAIL:", err)
    print(json.dumps(dict(figures, ok=not errors, errors=errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
