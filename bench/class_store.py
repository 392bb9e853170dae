"""Memory of the class store when full: 200 classes of 30 learners, each answering everything.

    python bench/class_store.py                     # the in-memory store (the default)
    python bench/class_store.py --classes 200 --learners 30

Fills a `MemoryStore` in this process with realistic answers (every question of the lesson,
texts as long as the lesson's longest choices), and prints the process's RSS growth and the
bytes Python allocated for it (tracemalloc). Target: growth <= 100 MB (issue 25).
"""

import argparse
import gc
import json
import sys
import tracemalloc
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from nameclf.lab.lesson import QUESTION_IDS  # noqa: E402
from nameclf.serve import classlink as cl  # noqa: E402
from nameclf.serve.classroom import Limits, MemoryStore  # noqa: E402

MAX_GROWTH_MB = 100
TEXT = "time × names × tokens: (12, 3, 57)"  # one of the lesson's longest answers


def fill(store: MemoryStore, classes: int, learners: int) -> int:
    """Open `classes` classes, each with `learners` learners answering every question."""
    qids = [q for c in sorted(QUESTION_IDS) for q in QUESTION_IDS[c]]
    n = 0
    for _ in range(classes):
        cid, key = cl.new_id(), cl.new_key()
        link = cl.ClassLink(cid, tuple(sorted(QUESTION_IDS)), hidden=("lr",), locked=("cell",))
        store.open(cid, key, cl.to_query(link))
        for _ in range(learners):
            who = cl.new_learner()
            for i, qid in enumerate(qids):
                store.answer(cid, who, qid, f"{TEXT} {i}", i % 3 != 0, TEXT)
                n += 1
            store.reach(cid, who, "end")
        for i in range(learners):
            store.add_run(cid, {"cell": "gru", "hidden": 64, "lr": 0.003, "batch": 32,
                                "seed": i, "top1": 0.71})
    return n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=200)
    parser.add_argument("--learners", type=int, default=30)
    args = parser.parse_args()
    proc = psutil.Process()
    gc.collect()
    before = proc.memory_info().rss
    tracemalloc.start()
    store = MemoryStore(Limits(classes=args.classes, learners=args.learners))
    answers = fill(store, args.classes, args.learners)
    traced, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    gc.collect()
    growth = (proc.memory_info().rss - before) / 2**20
    figures = dict(classes=len(store), learners_per_class=args.learners, answers=answers,
                   rss_growth_mb=round(growth, 1), python_allocated_mb=round(traced / 2**20, 1))
    ok = growth <= MAX_GROWTH_MB and len(store) == args.classes
    print(json.dumps(dict(figures, ok=ok)))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
