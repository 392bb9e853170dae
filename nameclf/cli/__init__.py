"""Command line: python -m nameclf train | notebook | evaluate | predict | explain | bench |
generate | gradnoise | batch-race.

The parser and the dispatch live here; the commands in `classify` and `generate`, the dataset
the data flags describe in `data`, the progress bar in `progress`. The CLI is the top floor
beside `nameclf.ui`: it may import every layer below it, and nothing below imports it.
"""

import argparse
import sys
from pathlib import Path

from nameclf.classify.presets import DEFAULT_PRESET, PRESETS
from nameclf.cli.classify import (
    cmd_bench,
    cmd_evaluate,
    cmd_explain,
    cmd_generate,
    cmd_predict,
    cmd_train,
)
from nameclf.cli.generate import add_generate_parser, add_task_option
from nameclf.cli.gradients import add_gradient_parsers, cmd_batch_race, cmd_gradnoise
from nameclf.cli.notebook import cmd_notebook
from nameclf.errors import NameclfError
from nameclf.generate.config import GEN_PRESETS

DESCRIPTION = ("Command line: python -m nameclf train | notebook | evaluate | predict | explain | "
               "bench | gradnoise | batch-race.")


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one readable line and exit code 2."""

    def error(self, message: str):
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(2)


def add_data_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("data")
    g.add_argument("--data", default="builtin:faker-surnames",
                   help="a `Name, Label` file, CSV, zip, folder of <Label>.txt, or builtin:NAME")
    g.add_argument("--split", choices=["names", "rows"], default=None,
                   help="names: leak-free (default); rows: the tutorial's random split")
    g.add_argument("--seed", type=int, default=None, help="seed for the split and training")
    g.add_argument("--keep-unicode", action="store_true",
                   help="keep accents instead of folding names to ASCII")
    g.add_argument("--name-column", help="a CSV's name column (default: recognised from the "
                   "header: name, surname, last_name, name_last, Romanized Name, ...)")
    g.add_argument("--label-column", help="a CSV's label column (default: recognised from the "
                   "header: label, language, country, country_code, race, ethnicity, ...)")
    g.add_argument("--min-names-per-label", type=int, default=2,
                   help="drop labels with fewer rows than this (reported); default 2")
    g.add_argument("--fix-text", action="store_true",
                   help="repair mis-decoded names (UTF-8 read as Latin-1) with ftfy and remove "
                        "control characters")


def add_train_args(t: argparse.ArgumentParser) -> None:
    """The data, task, model and optimization flags of `train` (and `notebook`)."""
    add_data_args(t)
    add_task_option(t)
    m = t.add_argument_group("model")
    m.add_argument("--preset", choices=[*PRESETS, *GEN_PRESETS], default=None,
                   help=f"starting settings (default {DEFAULT_PRESET}); flags below override them")
    m.add_argument("--model", dest="cell", choices=["rnn", "lstm", "gru", "ngram"],
                   help="recurrent cell, or ngram: TF-IDF over character 1-4-grams + logistic "
                        "regression (optimization flags do not apply)")
    m.add_argument("--hidden", dest="hidden_size", type=int, help="hidden units per direction")
    m.add_argument("--layers", dest="num_layers", type=int, help="stacked layers")
    m.add_argument("--bidirectional", action=argparse.BooleanOptionalAction, default=None,
                   help="read names both ways")
    m.add_argument("--embedding-dim", type=int, help="0 = one-hot input like the tutorial")
    m.add_argument("--dropout", type=float, help="dropout between layers and before the output")
    m.add_argument("--ngram-weight", type=float,
                   help="after training, mix in the n-gram baseline's probabilities with this "
                        "weight (0 = the recurrent model alone; the best preset uses 0.5); with "
                        "--task generate, the n-gram LM's share of the next-character mixture "
                        "(gen-fast: 0.2)")
    m.add_argument("--lexicon", action=argparse.BooleanOptionalAction, default=None,
                   help="the n-gram model (alone or mixed in) also reads how common the name "
                        "is as a word in 12 languages (wordfreq); the best preset does")
    o = t.add_argument_group("optimization")
    o.add_argument("--optimizer", choices=["sgd", "adam", "adamw"], help="optimizer")
    o.add_argument("--lr", type=float, help="learning rate")
    o.add_argument("--momentum", type=float, help="SGD momentum")
    o.add_argument("--weight-decay", type=float, help="weight decay")
    o.add_argument("--batch-size", type=int, help="names per step")
    o.add_argument("--steps", type=int, help="number of batches (overrides epochs)")
    o.add_argument("--epochs", type=float, help="passes over the training names")
    o.add_argument("--sampling", choices=["random", "epoch", "bucket"],
                   help="random batches with replacement, shuffled epochs, or length buckets")
    o.add_argument("--batching", choices=["per-sample", "padded", "packed"], help="batching mode")
    o.add_argument("--kernel", choices=["auto", "torch"],
                   help="packed batches: auto = nameclf's hand-written backprop on CPU, "
                        "torch = nn.RNN/LSTM/GRU (same weights, same maths)")
    o.add_argument("--schedule", choices=["constant", "cosine", "linear"], help="LR schedule")
    o.add_argument("--warmup", type=int, help="linear warmup steps")
    o.add_argument("--clip-grad", type=float, help="max gradient norm, 0 = off")
    o.add_argument("--class-weighting", action=argparse.BooleanOptionalAction, default=None,
                   help="weight classes by inverse frequency")
    o.add_argument("--label-smoothing", type=float, help="label smoothing")
    o.add_argument("--eval-every", type=int, help="test accuracy every N steps")
    o.add_argument("--time-budget", type=float, help="stop after this many seconds")

def build_parser() -> Parser:
    parser = Parser(prog="nameclf", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    t = sub.add_parser("train", help="train a classifier and write a checkpoint")
    add_train_args(t)
    r = t.add_argument_group("run")
    r.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default="auto",
                   help="where to train")
    r.add_argument("--out", type=Path, default=Path("runs/latest"),
                   help="folder for model.safetensors and metrics.json")
    r.add_argument("--quiet", action="store_true", help="no progress bar")

    n = sub.add_parser("notebook", help="write a run's settings as a plain-PyTorch notebook")
    add_train_args(n)
    n.add_argument("--checkpoint", type=Path,
                   help="export this saved run's settings instead of the flags' (the data it "
                        "trained on must load here)")
    n.add_argument("--out", type=Path, required=True,
                   help="FILE.ipynb, or FILE.zip: the notebook with its data file beside it")

    e = sub.add_parser("evaluate", help="metrics of a checkpoint on a dataset's test split")
    e.add_argument("--checkpoint", type=Path, required=True, help="a model.safetensors file")
    add_data_args(e)
    e.add_argument("--per-class", action="store_true", help="also print the per-class table")

    p = sub.add_parser("predict", help="top-k labels for names")
    p.add_argument("--checkpoint", type=Path, required=True, help="a model.safetensors file")
    p.add_argument("names", nargs="+", metavar="NAME", help="names to classify")
    p.add_argument("--top-k", type=int, default=3, help="labels to show per name")
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.add_argument("--steps", action="store_true",
                   help="the top-k after each character read: S, Sc, Sch, ... (the full name last)")

    x = sub.add_parser("explain", help="show how names are padded, sorted and packed")
    x.add_argument("names", nargs="+", metavar="NAME", help="two or more names")
    x.add_argument("--json", action="store_true", help="print JSON instead of text")

    b = sub.add_parser("bench", help="per-sample vs padded vs packed training speed")
    add_data_args(b)
    add_task_option(b)
    b.add_argument("--model", dest="cell", choices=["rnn", "lstm", "gru"], default="rnn",
                   help="recurrent cell")
    b.add_argument("--hidden", type=int, default=128, help="hidden units")
    b.add_argument("--embedding-dim", type=int, default=0, help="0 = one-hot input")
    b.add_argument("--names", type=int, default=256, help="names per batch and per race")
    b.add_argument("--seconds", type=float, default=3.0, help="seconds per mode")
    b.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default="auto",
                   help="where to train")
    b.add_argument("--json", action="store_true", help="print JSON instead of text")
    add_generate_parser(sub)
    add_gradient_parsers(sub, add_data_args)
    return parser


COMMANDS = {"train": cmd_train, "notebook": cmd_notebook, "evaluate": cmd_evaluate,
            "predict": cmd_predict, "explain": cmd_explain, "bench": cmd_bench,
            "generate": cmd_generate, "gradnoise": cmd_gradnoise, "batch-race": cmd_batch_race}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except NameclfError as err:
        print(f"nameclf {args.command}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"nameclf {args.command}: interrupted", file=sys.stderr)
        return 130
    except OSError as err:
        print(f"nameclf {args.command}: error: {err.strerror or err}: "
              f"{err.filename or ''}".rstrip(": "), file=sys.stderr)
        return 2

