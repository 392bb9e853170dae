"""The exported notebook against the CLI: same settings, same data, top-1 and training time.

    python bench/notebook.py [--data /work/shared/data/name2lang.txt] [--preset fast]
                             [--task classify|generate] [--seed 0]

Trains with `python -m nameclf train` (for the classifier also with `--kernel torch`, the
cell the notebook uses), then by executing the notebook that
`python -m nameclf notebook` writes for the same flags (nbclient, a real ipykernel), one
after the other on this machine. Prints a line per side, their ratios and one JSON line.
Targets (issue 27): top-1 within 1.5 points, training time within 3x; for the generator,
the network's test bits per character within 0.05.
"""

import argparse
import json
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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="/work/shared/data/name2lang.txt")
    p.add_argument("--preset", default=None, help="default: fast, or gen-fast for generate")
    p.add_argument("--task", choices=["classify", "generate"], default="classify")
    p.add_argument("--seed", default="0")
    args = p.parse_args()
    preset = args.preset or ("fast" if args.task == "classify" else "gen-fast")
    flags = ["--data", args.data, "--preset", preset, "--seed", args.seed, "--task", args.task]
    if args.task == "generate":  # the network alone, every step: as the notebook trains it
        flags += ["--ngram-weight", "0", "--time-budget", "0"]
    with tempfile.TemporaryDirectory() as tmp:
        load = loadavg()
        mine = cli("train", *flags, "--quiet", "--out", f"{tmp}/cli")
        torch_cell = None
        if args.task == "classify":  # PyTorch's own cell, as the notebook runs it
            torch_cell = cli("train", *flags, "--kernel", "torch", "--quiet", "--out",
                             f"{tmp}/cli-torch")
        cli("notebook", *flags, "--out", f"{tmp}/nb.zip")
        with zipfile.ZipFile(f"{tmp}/nb.zip") as archive:
            archive.extractall(f"{tmp}/nb")
        theirs, wall = execute(Path(tmp, "nb", "nameclf_run.ipynb"))
    row = {"task": args.task, "preset": preset, "data": args.data, "load_before": load,
           "cli": mine, "notebook": theirs, "notebook_wall_seconds": round(wall, 1)}
    if args.task == "classify":
        row["top1_gap_points"] = round(100 * (theirs["top1"] - mine["top1"]), 2)
        row["time_ratio"] = round(theirs["seconds"] / mine["train_seconds"], 2)
        row["cli_torch_kernel"] = torch_cell
        row["time_ratio_torch_kernel"] = round(theirs["seconds"] / torch_cell["train_seconds"],
                                               2)
        print(f"CLI:      top-1 {mine['top1']:.4f}, {mine['train_seconds']:.1f} s training")
        print(f"CLI, --kernel torch (nn.GRU): top-1 {torch_cell['top1']:.4f}, "
              f"{torch_cell['train_seconds']:.1f} s training")
        print(f"notebook: top-1 {theirs['top1']:.4f}, {theirs['seconds']:.1f} s training "
              f"({wall:.0f} s to execute)")
        print(f"gap {row['top1_gap_points']:+.2f} points; time {row['time_ratio']:.2f}x the "
              f"CLI's, {row['time_ratio_torch_kernel']:.2f}x with PyTorch's cell")
    else:
        gap = theirs["test_bits_per_char"] - mine["net_bits_per_char"]
        row["bpc_gap"] = round(gap, 4)
        print(f"CLI net bits/char {mine['net_bits_per_char']:.4f}; notebook "
              f"{theirs['test_bits_per_char']:.4f}; gap {gap:+.4f}")
    print(json.dumps(row))


if __name__ == "__main__":
    main()
