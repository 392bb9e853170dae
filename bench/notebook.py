"""The exported notebook against the CLI: same settings, same data, top-1 and training time.

    python bench/notebook.py [--data /work/shared/data/name2lang.txt] [--preset fast]
                             [--task classify|generate] [--seed 0] [--rounds 3]

Trains with `python -m nameclf train` (for the classifier also with `--kernel torch`, the
cell the notebook uses), then by executing the notebook that `python -m nameclf notebook`
writes for the same flags (nbclient, a real ipykernel); the sides alternate `--rounds` times.
Prints a line per round, the medians and their ratios, and one JSON line.
Targets (issue 27): top-1 within 1.5 points, training time within 3x; for the generator,
the network's test bits per character within 0.05.
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import nbformat
from localhost import loadavg
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str) -> dict:
    """Run `python -m nameclf ARGS` and return the JSON line it prints last."""
    done = subprocess.run([sys.executable, "-m", "nameclf", *args], cwd=ROOT, check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def execute(path: Path) -> tuple[dict, float]:
    """Execute a notebook in its folder; (its last JSON line, wall seconds)."""
    nb = nbformat.read(path, as_version=4)
    t0 = time.perf_counter()
    NotebookClient(nb, timeout=3600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    wall = time.perf_counter() - t0
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.output_type == "stream")
    return json.loads(text.strip().splitlines()[-1]), wall


def one_round(flags: list[str], task: str, tmp: str) -> dict:
    """The CLI (and, for the classifier, the CLI with PyTorch's cell), then the notebook."""
    out = {"load": loadavg(), "cli": cli("train", *flags, "--quiet", "--out", f"{tmp}/cli")}
    if task == "classify":  # PyTorch's own cell, as the notebook runs it
        out["cli_torch"] = cli("train", *flags, "--kernel", "torch", "--quiet", "--out",
                               f"{tmp}/cli-torch")
    cli("notebook", *flags, "--out", f"{tmp}/nb.zip")
    with zipfile.ZipFile(f"{tmp}/nb.zip") as archive:
        archive.extractall(f"{tmp}/nb")
    out["notebook"], out["notebook_wall"] = execute(Path(tmp, "nb", "nameclf_run.ipynb"))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="/work/shared/data/name2lang.txt")
    p.add_argument("--preset", default=None, help="default: fast, or gen-fast for generate")
    p.add_argument("--task", choices=["classify", "generate"], default="classify")
    p.add_argument("--seed", default="0")
    p.add_argument("--rounds", type=int, default=3,
                   help="CLI and notebook alternate this many times; medians are reported "
                        "(the machine is shared: its load moves while one side runs)")
    args = p.parse_args()
    preset = args.preset or ("fast" if args.task == "classify" else "gen-fast")
    flags = ["--data", args.data, "--preset", preset, "--seed", args.seed, "--task", args.task]
    if args.task == "generate":  # the network alone, every step: as the notebook trains it
        flags += ["--ngram-weight", "0", "--time-budget", "0"]
    rounds = []
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory() as tmp:
            rounds.append(one_round(flags, args.task, tmp))
    med = lambda values: round(statistics.median(values), 2)  # noqa: E731
    nb_s = med([r["notebook"]["seconds"] for r in rounds])
    row = {"task": args.task, "preset": preset, "data": args.data, "rounds": rounds,
           "notebook_seconds": nb_s}
    for r in rounds:
        print(f"load {r['load']}: CLI {r['cli']['train_seconds']:.1f} s"
              + (f", CLI --kernel torch {r['cli_torch']['train_seconds']:.1f} s"
                 if "cli_torch" in r else "")
              + f", notebook {r['notebook']['seconds']:.1f} s ({r['notebook_wall']:.0f} s "
              "to execute)")
    if args.task == "classify":
        cli_s = med([r["cli"]["train_seconds"] for r in rounds])
        torch_s = med([r["cli_torch"]["train_seconds"] for r in rounds])
        mine, theirs = rounds[0]["cli"], rounds[0]["notebook"]
        row.update(cli_seconds=cli_s, cli_torch_seconds=torch_s,
                   top1_cli=mine["top1"], top1_notebook=theirs["top1"],
                   top1_gap_points=round(100 * (theirs["top1"] - mine["top1"]), 2),
                   time_ratio=round(nb_s / cli_s, 2), time_ratio_torch=round(nb_s / torch_s, 2))
        print(f"top-1: CLI {mine['top1']:.4f}, notebook {theirs['top1']:.4f} "
              f"({row['top1_gap_points']:+.2f} points)")
        print(f"median training seconds: CLI {cli_s}, CLI --kernel torch {torch_s}, notebook "
              f"{nb_s}: {row['time_ratio']}x the CLI's, {row['time_ratio_torch']}x with "
              "PyTorch's cell")
    else:
        mine, theirs = rounds[0]["cli"], rounds[0]["notebook"]
        gap = theirs["test_bits_per_char"] - mine["net_bits_per_char"]
        row.update(bpc_cli=mine["net_bits_per_char"], bpc_notebook=theirs["test_bits_per_char"],
                   bpc_gap=round(gap, 4),
                   cli_seconds=med([r["cli"]["train_seconds"] for r in rounds]))
        print(f"CLI net bits/char {mine['net_bits_per_char']:.4f}; notebook "
              f"{theirs['test_bits_per_char']:.4f}; gap {gap:+.4f}")
    print(json.dumps(row))


if __name__ == "__main__":
    main()
