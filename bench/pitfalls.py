"""Issue 26's targets: each pitfall card's measurement, and one name's attribution.

    python bench/pitfalls.py                       # the built-in default names, preset fast
    python bench/pitfalls.py --data /path/to/name2lang.txt --repeats 5

Trains the `fast` preset on the names split (its time is printed, not counted), then times,
on one thread as the app's server runs, each card's measurement on 256 test names, as the
Pitfalls page does (median of --repeats), and "Why this name?" (occlusion + integrated
gradients) for 50 test names, one at a time. Target: every card <= 3 s, one attribution
<= 0.5 s. The page's first view against a bare Streamlit page is bench/first_render.py:

    python bench/first_render.py --bare-each-run Pitfalls

Prints a table and one JSON line; the machine may be shared (load shown).
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from localhost import loadavg  # noqa: E402

CARD_TARGET_S, ATTRIBUTION_TARGET_S = 3.0, 0.5


def timed(fn, repeats: int) -> float:
    """The median wall time of `repeats` calls."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="builtin:faker-surnames", help="a file or builtin:NAME")
    p.add_argument("--repeats", type=int, default=3, help="timings per card (median)")
    p.add_argument("--names", type=int, default=256, help="test names a card measures on")
    args = p.parse_args()
    import torch

    from nameclf.classify.pipeline import fit, prepare
    from nameclf.classify.presets import preset
    from nameclf.data.dataset import load_dataset
    from nameclf.data.splits import make_split
    from nameclf.lab import pitfalls
    from nameclf.lab.attribution import attribute
    from nameclf.lab.pitfall_cards import CARDS
    from nameclf.lab.targets import untrained

    torch.set_num_threads(1)  # as nameclf.ui.cache gives the server on a 2-core machine
    ds = load_dataset(args.data)
    model_cfg, train_cfg, split = preset("fast")
    t0 = time.perf_counter()
    run = fit(prepare(ds, split, seed=0), model_cfg, train_cfg)
    train_s = time.perf_counter() - t0
    rows = make_split(ds, split, seed=0).test
    names, labels = [ds.names[i] for i in rows], [ds.labels[i] for i in rows]
    batch = pitfalls.sample_batch(run.model, run.vocab, run.classes, names, labels, args.names)
    gen = untrained(run.vocab, run.classes)

    cards = {}
    for card in CARDS:
        if card.needs == "generator":
            fn = lambda: pitfalls.masked_mean(gen, run.vocab, batch.names[:64],  # noqa: E731
                                              batch.labels[:64])
        else:
            fn = lambda key=card.key: getattr(pitfalls, key)(batch)  # noqa: E731
        cards[card.key] = timed(fn, args.repeats)
    shown = batch.names[:50]
    attribute(run.model, run.vocab, run.classes, shown[0])  # warm: first autograd call
    per_name = [timed(lambda n=n: attribute(run.model, run.vocab, run.classes, n), 1)
                for n in shown]

    print(f"fast preset trained in {train_s:.1f} s (not counted), top-1 "
          f"{run.metrics['top1']:.1%}; load {loadavg()}")
    print(f"{'card':<24} {'median s':>9}  target {CARD_TARGET_S:.0f} s")
    for key, s in cards.items():
        print(f"{key:<24} {s:>9.3f}  {'ok' if s <= CARD_TARGET_S else 'OVER'}")
    med, worst = statistics.median(per_name), max(per_name)
    print(f"{'attribution, one name':<24} {med:>9.3f}  (max {worst:.3f} over {len(shown)} "
          f"names; target {ATTRIBUTION_TARGET_S} s: "
          f"{'ok' if worst <= ATTRIBUTION_TARGET_S else 'OVER'})")
    print(json.dumps({"data": args.data, "names": len(batch.names), "train_s": train_s,
                      "cards_s": cards, "attribution_median_s": med,
                      "attribution_max_s": worst, "load": loadavg()}))


if __name__ == "__main__":
    main()
