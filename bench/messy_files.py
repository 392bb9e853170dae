"""Files from elsewhere, made up: one synthetic file of each awkward shape, loaded and trained.

    python bench/messy_files.py                      # every shape
    python bench/messy_files.py --only big,labels200 # the two big files
    python bench/messy_files.py --no-train           # loading only
    python bench/messy_files.py --threads 1          # on a shared, loaded CPU (see below)

Shapes (issue 15): unusual headers, a rare label, lower-case names, skewed duplicates,
mis-decoded rows, 150k rows x 13 labels (`big`), 10k rows x 200 labels (`labels200`). For each,
one JSON line: load seconds, what was dropped or repaired, `fast` and n-gram training seconds
and top-1 (per row and per distinct name). The names are made up: each label prefers its own
syllables, so they can be learned but not perfectly. Nothing is read from outside, except
the `reference` shape: the reference file (../shared/data/name2lang.txt), when it is there,
trained the same way for a side-by-side ratio.

On a CPU that other processes keep busy, torch's two threads wait on each other: `fast` ran
20x slower with 2 threads than with 1 on this 2-core machine under a load of 7. `--threads 1`
measures what one core does.
"""

import argparse
import json
import random
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nameclf.classify.config import ModelConfig  # noqa: E402
from nameclf.classify.pipeline import fit, prepare  # noqa: E402
from nameclf.classify.presets import preset  # noqa: E402
from nameclf.data.dataset import LoadOptions, load_dataset  # noqa: E402

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "name2lang.txt"

ONSETS = ["b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w",
          "z", "br", "ch", "dr", "gr", "kr", "pl", "sh", "st", "th", "tr"]
VOWELS = ["a", "e", "i", "o", "u", "y", "aa", "ei", "ou", "ia"]
CODAS = ["", "", "n", "r", "s", "k", "l", "m", "t", "sk", "nd"]


def syllables(rng: random.Random, n: int) -> list[str]:
    """`n` distinct made-up syllables."""
    out: set[str] = set()
    while len(out) < n:
        out.add(rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS))
    return sorted(out)


def made_up_rows(n_rows: int, n_labels: int, seed: int = 0) -> list[tuple[str, str]]:
    """(name, label) rows: each label draws mostly from its own 10 syllables and one ending."""
    rng = random.Random(seed)
    pool = syllables(rng, 400)
    labels = [f"L{i:03d}" for i in range(n_labels)]
    own = {lab: rng.sample(pool, 10) for lab in labels}
    ending = {lab: rng.choice(pool) for lab in labels}
    rows = []
    for _ in range(n_rows):
        lab = rng.choice(labels)
        parts = [rng.choice(own[lab] if rng.random() < 0.7 else pool)
                 for _ in range(rng.randint(2, 3))]
        if rng.random() < 0.6:
            parts.append(ending[lab])
        rows.append(("".join(parts).capitalize(), lab))
    return rows


def csv_text(header: str, rows) -> str:
    return header + "\n" + "".join(",".join(r) + "\n" for r in rows)


def shapes(seed: int = 0) -> dict[str, tuple[str, str, LoadOptions]]:
    """name -> (file name, file text, load options): one file of each awkward shape."""
    base = made_up_rows(3000, 8, seed)
    rng = random.Random(seed)
    skewed = base + [("Patel", "L000")] * 52 + [("Patel", "L001")]
    misdecoded = [(n.encode("utf-8").decode("latin-1") if rng.random() < 0.1 else n, lab)
                  for n, lab in ((n.replace("a", "č", 1), lab) for n, lab in base)]
    return {
        "headers": ("census.csv", csv_text("name_last,name_suffix,name_first,race",
                                           [(n, "", "Ann", lab) for n, lab in base]),
                    LoadOptions()),
        "columns": ("odd.csv", csv_text("Who,Count,What", [(n, "1", lab) for n, lab in base]),
                    LoadOptions(name_column="Who", label_column="What")),
        "rare": ("rare.csv", csv_text("Romanized Name,Country", base + [("Tuvalu", "TUV")]),
                 LoadOptions()),
        "lower": ("lower.csv", csv_text("name,label", [(n.lower(), lab) for n, lab in base]),
                  LoadOptions()),
        "skewed": ("skewed.csv", csv_text("surname,ethnicity", skewed), LoadOptions()),
        "misdecoded": ("mojibake.csv", csv_text("Last Name,country_code", misdecoded),
                       LoadOptions(fix_text=True)),
        "big": ("big.csv", csv_text("name,label", made_up_rows(150_000, 13, seed)),
                LoadOptions()),
        "labels200": ("labels200.csv", csv_text("name,label", made_up_rows(10_000, 200, seed)),
                      LoadOptions()),
    } | ({"reference": ("name2lang.txt", REFERENCE.read_text(encoding="utf-8"), LoadOptions())}
         if REFERENCE.is_file() else {})


def train_one(prep, kind: str) -> dict:
    """Train `fast` or the n-gram baseline on prepared data: seconds and top-1."""
    if kind == "fast":
        model_cfg, train_cfg, _ = preset("fast")
    else:
        model_cfg, train_cfg = ModelConfig(cell="ngram"), preset("fast")[1]
    run = fit(prep, model_cfg, replace(train_cfg, eval_every=0))
    return {f"{kind}_seconds": round(run.info["train_seconds"], 1),
            f"{kind}_steps": run.info["steps"], f"{kind}_top1": round(run.metrics["top1"], 4),
            f"{kind}_top1_names": round(run.metrics.get("top1_names", 0.0), 4)}


def bench_shape(name: str, filename: str, text: str, options: LoadOptions, folder: Path,
                train: bool) -> dict:
    path = folder / filename
    path.write_text(text, encoding="utf-8")
    start = time.perf_counter()
    ds = load_dataset(path, options=options)
    r = ds.report
    record = {"shape": name, "rows": r.rows_read, "labels": len(ds.classes),
              "load_seconds": round(time.perf_counter() - start, 2), "columns": r.columns,
              "dropped_labels": r.dropped_labels, "misdecoded": r.misdecoded,
              "control_chars": r.control_chars, "repaired": r.repaired,
              "duplicates": r.exact_duplicates, "conflicting": len(r.conflicting)}
    if train:
        prep = prepare(ds, "names", seed=0)
        record["n_train"] = len(prep.train)
        for kind in ("fast", "ngram"):
            record |= train_one(prep, kind)
    return record


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated shapes (default: all)")
    parser.add_argument("--no-train", action="store_true", help="load only")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's own)")
    args = parser.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    every = shapes()
    wanted = args.only.split(",") if args.only else list(every)
    with tempfile.TemporaryDirectory(prefix="nameclf-messy-") as folder:
        for name in wanted:
            print(json.dumps(bench_shape(name, *every[name], Path(folder), not args.no_train)),
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
