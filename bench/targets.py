"""Benchmark the project's targets on the reference file, side by side in one run.

    python bench/targets.py [--data ../shared/data/name2lang.txt] [--only fast,throughput,race]
    python bench/targets.py --only seed,fast,best,ngram     # every preset and the baseline
    python bench/targets.py --only ngram+lexicon            # the baseline reading word frequencies
    python bench/targets.py --only best --seeds 0,1,2       # training seeds (same split)

Prints one JSON line per measurement and a summary table. Speeds are compared as ratios
measured back to back in the same process, since the machine is shared and noisy.
"""

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from statistics import median

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tutorial  # noqa: E402

from nameclf import fit, load_dataset, prepare, preset  # noqa: E402
from nameclf.classify.config import ModelConfig, TrainConfig  # noqa: E402
from nameclf.classify.model import NameClassifier  # noqa: E402
from nameclf.classify.train import train  # noqa: E402
from nameclf.lab.race import RaceConfig, race  # noqa: E402
from nameclf.lab.speedups import ratios  # noqa: E402

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "name2lang.txt"


def emit(record: dict) -> dict:
    print(json.dumps(record), flush=True)
    return record


def names_labels(ds, rows: list[int]) -> tuple[list[str], list[str]]:
    """The names and labels of some rows, as the tutorial's loops take them."""
    return [ds.names[i] for i in rows], [ds.labels[i] for i in rows]


def bench_preset(ds, name: str, steps: int | None = None, seed: int = 0) -> dict:
    """Train a preset (or `ngram`, the baseline, or `ngram+lexicon`, the baseline reading word
    frequencies too) on its split; report accuracy and time.

    `seed` is the training seed (initial weights, batch order); the split's is always 0.
    """
    if name in ("ngram", "ngram+lexicon"):
        model_cfg = ModelConfig(cell="ngram", lexicon=name == "ngram+lexicon")
        train_cfg, split = TrainConfig(), "names"
    else:
        model_cfg, train_cfg, split = preset(name)
    train_cfg = replace(train_cfg, seed=seed, steps=steps or train_cfg.steps)
    prep = prepare(ds, split, seed=0)
    start = time.perf_counter()
    run = fit(prep, model_cfg, replace(train_cfg, eval_every=0))
    record = {"bench": "preset", "preset": name, "split": split, "seed": seed,
              "steps": run.info["steps"],
              "train_seconds": round(run.info["train_seconds"], 1),
              "wall_seconds": round(time.perf_counter() - start, 1),
              "names_per_second": round(run.info["names_per_second"]),
              "top1": round(run.metrics["top1"], 4), "top2": round(run.metrics["top2"], 4),
              "macro_f1": round(run.metrics["macro_f1"], 4),
              # per distinct test name (each once, judged by its most frequent label) beside
              # the headline per row
              "top1_names": round(run.metrics.get("top1_names", float("nan")), 4),
              "n_test": run.info["n_test"], "n_test_names": run.metrics.get("n_names")}
    if "parts_top1" in run.info:  # a mixture: each part's top-1 alone
        record["parts_top1"] = {k: round(v, 4) for k, v in run.info["parts_top1"].items()}
    return emit(record)


def bench_throughput(ds, seconds: float, rounds: int = 5) -> list[dict]:
    """Our loop (both kernels) vs the tutorial's batched loop, same model and batch size.

    The contestants take turns, `rounds` times `seconds / rounds` each, so a burst of load
    from elsewhere on a shared machine hits all of them; ratios are medians over rounds.
    """
    prep = prepare(ds, "rows", seed=0)
    X, y = names_labels(ds, prep.split.train)
    out, turn = [], seconds / rounds
    for cell in ("rnn", "lstm"):
        model_cfg, train_cfg, _ = preset(f"seed-{cell}")
        model_cfg = replace(model_cfg, vocab_size=len(prep.vocab), n_classes=len(prep.classes))
        speeds = {"tutorial": [], "auto": [], "torch": []}
        for r in range(rounds):
            speeds["tutorial"].append(tutorial.train_batched(
                cell, X, y, prep.classes, 10**9, 512, turn, seed=r)["names_per_second"])
            for kernel in ("auto", "torch"):  # nameclf.classify.recurrence, then nn.RNN/nn.LSTM
                cfg = replace(train_cfg, steps=10**6, time_budget=turn, eval_every=0,
                              kernel=kernel, seed=r)
                speeds[kernel].append(
                    train(NameClassifier(model_cfg), prep.train, cfg).names_per_second)
        ratios_auto = [a / t for a, t in zip(speeds["auto"], speeds["tutorial"])]
        ratios_torch = [a / t for a, t in zip(speeds["torch"], speeds["tutorial"])]
        out.append(emit({"bench": "throughput", "model": cell, "batch": 512, "rounds": rounds,
                         "tutorial_names_per_second": round(median(speeds["tutorial"])),
                         "ours_names_per_second": round(median(speeds["auto"])),
                         "ours_torch_kernel_names_per_second": round(median(speeds["torch"])),
                         "ratio": round(median(ratios_auto), 2),
                         "ratio_range": [round(min(ratios_auto), 2), round(max(ratios_auto), 2)],
                         "ratio_torch_kernel": round(median(ratios_torch), 2)}))
    return out


def bench_race(ds, seconds: float) -> list[dict]:
    """Packed vs padded vs per-sample on 256 names; and the tutorial's own two loops."""
    prep = prepare(ds, "rows", seed=0)
    X, y = names_labels(ds, prep.split.train)
    out = []
    for cell in ("rnn", "lstm"):
        cfg = ModelConfig(cell=cell, vocab_size=len(prep.vocab), n_classes=len(prep.classes))
        speeds = race(cfg, prep.train, RaceConfig(n_names=256, batch_size=256, seconds=seconds))
        per = tutorial.train_per_sample(cell, X, y, prep.classes, 10**9, seconds)
        bat = tutorial.train_batched(cell, X, y, prep.classes, 10**9, 256, seconds)
        out.append(emit({"bench": "race", "model": cell, "names": 256,
                         **{k.replace("-", "_"): round(v) for k, v in speeds.items()},
                         **{k: round(v, 1) for k, v in ratios(speeds).items()},
                         "tutorial_per_sample": round(per["names_per_second"]),
                         "tutorial_batched": round(bat["names_per_second"]),
                         "tutorial_batched_over_per_sample":
                             round(bat["names_per_second"] / per["names_per_second"], 1)}))
    return out


def bench_tutorial_accuracy(ds, cell: str, n_batches: int) -> dict:
    """The tutorial's own code, trained in full, evaluated on the whole rows test split."""
    prep = prepare(ds, "rows", seed=0)
    X, y = names_labels(ds, prep.split.train)
    res = tutorial.train_batched(cell, X, y, prep.classes, n_batches)
    Xt, yt = names_labels(ds, prep.split.test)
    top1, top2 = tutorial.evaluate_full(res["net"], Xt, yt, prep.classes)
    return emit({"bench": "tutorial-accuracy", "model": cell, "batches": res["batches"],
                 "seconds": round(res["seconds"], 1), "top1": round(top1, 4),
                 "top2": round(top2, 4)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(REFERENCE),
                        help="the reference name2lang.txt, or a builtin: dataset")
    parser.add_argument("--only", default="fast,throughput,race",
                        help="comma list of: fast, best, ngram, ngram+lexicon, throughput, race, "
                             "seed, tutorial")
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="seconds per speed contestant (in turns, for throughput)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = default)")
    parser.add_argument("--seeds", type=lambda text: [int(x) for x in text.split(",")],
                        default=[0], help="training seeds of fast, best and ngram (e.g. 0,1,2)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if not args.data.startswith("builtin:") and not Path(args.data).is_file():
        sys.exit(f"bench: the reference file is not at {args.data}; pass --data PATH "
                 "(or a builtin: dataset)")
    ds = load_dataset(args.data)
    only = set(args.only.split(","))
    print(f"# torch {torch.__version__}, {torch.get_num_threads()} threads, {len(ds)} rows",
          flush=True)
    for name in ("fast", "best", "ngram", "ngram+lexicon"):
        if name in only:
            records = [bench_preset(ds, name, seed=seed) for seed in args.seeds]
            if len(records) > 1:  # a mean over training seeds, the split unchanged
                emit({"bench": "preset seeds", "preset": name, "seeds": args.seeds,
                      **{k: round(sum(r[k] for r in records) / len(records), 4)
                         for k in ("top1", "top2", "macro_f1", "train_seconds")},
                      "top1_range": [min(r["top1"] for r in records),
                                     max(r["top1"] for r in records)]})
    if "throughput" in only:
        bench_throughput(ds, args.seconds)
    if "race" in only:
        bench_race(ds, args.seconds)
    if "seed" in only:
        bench_preset(ds, "seed-rnn")
        bench_preset(ds, "seed-lstm")
    if "tutorial" in only:
        bench_tutorial_accuracy(ds, "rnn", 5000)
        bench_tutorial_accuracy(ds, "lstm", 8000)


if __name__ == "__main__":
    main()
