"""Command line: python -m nameclf train | evaluate | predict | explain | bench."""

import argparse
import json
import sys
from dataclasses import asdict, replace
from pathlib import Path

from nameclf.errors import NameclfError
from nameclf.generator_cli import add_generate_parser, add_task_option
from nameclf.generator_config import GEN_PRESETS
from nameclf.presets import DEFAULT_PRESET, PRESETS
from nameclf.progress import StepBar


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


def build_parser() -> Parser:
    parser = Parser(prog="nameclf", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)

    t = sub.add_parser("train", help="train a classifier and write a checkpoint")
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
    r = t.add_argument_group("run")
    r.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default="auto",
                   help="where to train")
    r.add_argument("--out", type=Path, default=Path("runs/latest"),
                   help="folder for model.safetensors and metrics.json")
    r.add_argument("--quiet", action="store_true", help="no progress bar")

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
    return parser


def load_data(args, report: bool = False):
    """The dataset the data flags describe; with `report`, its load report on stderr."""
    from nameclf.data import LoadOptions, load_dataset

    progress = None
    if args.data == "builtin:pytorch-names" and not Path("data/pytorch-names.zip").exists():
        from tqdm import tqdm

        bar = tqdm(unit="B", unit_scale=True, desc="downloading", file=sys.stderr)

        def progress(done, total):
            bar.total = total
            bar.n = done
            bar.refresh()
    options = LoadOptions(args.name_column, args.label_column, args.min_names_per_label,
                          args.fix_text)
    ds = load_dataset(args.data, ascii_fold=not args.keep_unicode, progress=progress,
                      options=options)
    if report:
        print("\n".join(ds.report.lines()), file=sys.stderr)
    return ds


def shaping_preset(args, model_cfg) -> str | None:
    """The preset that shaped the run, or None: the default preset's recurrent settings do not
    apply to a lone n-gram model, nor does a named preset that sets none of its fields."""
    if model_cfg.cell != "ngram":
        return args.preset or DEFAULT_PRESET
    return args.preset if args.preset and PRESETS[args.preset][0].get("lexicon") else None


def cmd_train(args) -> int:
    if args.task == "generate":
        from nameclf.generator_cli import train_generate

        return train_generate(args)
    import torch

    from nameclf.checkpoint import save
    from nameclf.device import pick_device
    from nameclf.pipeline import fit, prepare
    from nameclf.presets import override, preset

    model_cfg, train_cfg, split = preset(args.preset or DEFAULT_PRESET)
    values = vars(args)
    model_cfg = override(model_cfg, values)
    if model_cfg.cell == "ngram" and args.ngram_weight is None:  # --preset best --model ngram
        model_cfg.ngram_weight = 0.0
    if not model_cfg.reads_ngrams and args.lexicon is None:  # --preset best --ngram-weight 0
        model_cfg.lexicon = False
    if args.steps is not None and args.epochs is None:
        values = dict(values, epochs=0.0)
    elif args.epochs is not None and args.steps is None:  # the epochs asked, uncapped
        values = dict(values, steps=0, max_names=0)
    train_cfg = override(train_cfg, values)
    split = args.split or split
    seed = 0 if args.seed is None else args.seed
    train_cfg.seed = seed
    train_cfg.validate()
    # a bad model setting is one line before any data is read (sizes come from the data)
    replace(model_cfg, vocab_size=3, n_classes=2).validate()
    device = pick_device(args.device)
    if device.type == "cpu":
        torch.set_num_threads(max(1, torch.get_num_threads()))
    ds = load_data(args, report=True)
    prep = prepare(ds, split, seed=seed, device=device)
    def figures(p) -> dict[str, str]:
        post = {"loss": f"{p.running_loss:.3f}", "names/s": f"{p.names_per_second:,.0f}"}
        return post | ({"top1": f"{p.top1:.3f}"} if p.top1 is not None else {})

    shaped_by = shaping_preset(args, model_cfg)
    info = {"data": args.data, "ascii_fold": not args.keep_unicode, "seed": seed,
            "device": str(device), "preset": shaped_by}
    # no stop event: Ctrl-C interrupts in place, so an n-gram fit without a time budget runs in
    # this process (a child process would cost a Python start and an import)
    with StepBar(args.quiet, figures) as report:
        run = fit(prep, model_cfg, train_cfg, report, info=info)
    if run.learned_nothing:
        raise NameclfError(f"the {run.model_config.kind} model did not finish within "
                           f"--time-budget {train_cfg.time_budget:g} s; nothing was saved")
    args.out.mkdir(parents=True, exist_ok=True)
    save(run, args.out / "model.safetensors")
    summary = {"model": run.model_config.kind, "preset": shaped_by, "status": run.status,
               **{k: run.info[k] for k in ("split", "n_train", "n_test", "steps", "train_seconds",
                                            "names_per_second", "leaked_test_rows",
                                            "leaked_test_pairs", "top1_ceiling")},
               **run.metrics}
    record = {"summary": summary, "model_config": run.model_config.to_dict(),
              "train_config": asdict(train_cfg), "info": run.info,
              "load_report": ds.report.to_dict(), "history": run.history}
    (args.out / "metrics.json").write_text(json.dumps(record, indent=1))
    print(json.dumps(summary))
    return 0 if run.status != "diverged — lower the learning rate" else 1


def cmd_evaluate(args) -> int:
    from nameclf.checkpoint import load
    from nameclf.evaluate import log_probs, metrics_from, name_top1
    from nameclf.pipeline import check_compatible, encode_for
    from nameclf.splits import make_split, top1_ceiling

    run = load(args.checkpoint)
    ds = load_data(args, report=True)
    split = args.split or run.info.get("split", "names")
    seed = args.seed if args.seed is not None else run.info.get("seed", 0)
    sp = make_split(ds, split, seed=seed)
    check_compatible(run, ds)
    test = encode_for(run, ds, sp.test, "cpu")
    logp = log_probs(run.model, test)
    metrics = metrics_from(logp, test.labels, run.classes)
    if args.per_class:
        print(metrics.per_class.round(3).to_string(), file=sys.stderr)
    names = [ds.names[i] for i in sp.test]
    print(json.dumps({"checkpoint": str(args.checkpoint), "split": split, "seed": seed,
                      **metrics.summary(), "top1_names": name_top1(logp, test.labels, names),
                      "n_names": len(set(names)), "top1_ceiling": top1_ceiling(ds, sp.test)}))
    return 0


def cmd_predict(args) -> int:
    from nameclf.checkpoint import load
    from nameclf.pipeline import predict

    if args.top_k < 1:
        raise NameclfError("--top-k must be at least 1")
    if args.steps:
        return print_steps(load(args.checkpoint), args)
    preds = predict(load(args.checkpoint), args.names, args.top_k)
    if args.json:
        print(json.dumps([asdict(p) for p in preds]))
        return 0
    for p in preds:
        guesses = ", ".join(f"{label} {prob:.1%}" for label, prob in p.top)
        print(f"{p.name}: {guesses or '—'}" + (f"  ({p.note.strip(' —')})" if p.note else ""))
    return 0


def print_steps(run, args) -> int:
    """`predict --steps`: a table prefix -> top-k for each name, or the same as JSON."""
    from nameclf.prefix import prefix_note, prefix_predictions

    note = prefix_note(run)
    results = [(name, prefix_predictions(run, name, args.top_k)) for name in args.names]
    if args.json:
        print(json.dumps([{"name": name, "note": note,
                           "steps": [{"prefix": p, "top": top} for p, top in steps]}
                          for name, steps in results]))
        return 0
    print(f"({note})", file=sys.stderr)
    for name, steps in results:
        print(f"{name}:" + ("" if steps else "  (empty name: nothing to predict)"))
        width = max((len(p) for p, _ in steps), default=0)
        for prefix, top in steps:
            guesses = ", ".join(f"{label} {prob:.1%}" for label, prob in top)
            print(f"  {prefix:<{width}}  {guesses}")
    return 0


def cmd_explain(args) -> int:
    from nameclf.encoding import explain
    from nameclf.vocab import normalize

    names = [normalize(n) for n in args.names]
    if any(not n for n in names):
        raise NameclfError("names must not be empty")
    steps = explain(names)
    if args.json:
        print(json.dumps(steps))
        return 0
    width = max(len(t) for row in steps["padded"] for t in row)
    print("1. indices:")
    for name, idx in zip(steps["names"], steps["indices"]):
        print(f"   {name:<12} {idx}")
    print(f"2. padded (B, T) — {steps['real_cells']} real cells, {steps['pad_cells']} padding "
          f"({steps['wasted_fraction']:.0%} wasted):")
    for row in steps["padded"]:
        print("   " + " ".join(t.ljust(width) for t in row))
    print(f"3. sorted by length: indices {steps['sorted_indices']} -> {steps['sorted_names']}; "
          f"unsorted_indices {steps['unsorted_indices']}")
    print(f"4. packed data (time-major): {' '.join(steps['packed'])}")
    print(f"   batch_sizes: {steps['batch_sizes']}")
    return 0


def cmd_bench(args) -> int:
    if args.task == "generate":
        from nameclf.generator_cli import bench_generate

        return bench_generate(args)
    import torch

    from nameclf.bench import RaceConfig, race, ratios
    from nameclf.config import ModelConfig
    from nameclf.device import describe, pick_device
    from nameclf.pipeline import prepare

    device = pick_device(args.device)
    prep = prepare(load_data(args), args.split or "names", seed=args.seed or 0, device=device)
    model_cfg = ModelConfig(cell=args.cell, vocab_size=len(prep.vocab),
                            n_classes=len(prep.classes), hidden_size=args.hidden,
                            embedding_dim=args.embedding_dim)
    cfg = RaceConfig(n_names=min(args.names, len(prep.train)), batch_size=args.names,
                     seconds=args.seconds)
    speeds = race(model_cfg, prep.train, cfg)
    result = {"model": args.cell, "names": cfg.n_names, "device": describe(device),
              "threads": torch.get_num_threads(),
              **{k.replace("-", "_"): v for k, v in speeds.items()}, **ratios(speeds)}
    if args.json:
        print(json.dumps(result))
    else:
        for mode, speed in speeds.items():
            print(f"{mode:>12}: {speed:>10,.0f} names/s")
        for key, value in ratios(speeds).items():
            print(f"{key}: {value:.1f}x")
    return 0


def cmd_generate(args) -> int:
    from nameclf.generator_cli import cmd_generate as generate

    return generate(args)


COMMANDS = {"train": cmd_train, "evaluate": cmd_evaluate, "predict": cmd_predict,
            "explain": cmd_explain, "bench": cmd_bench, "generate": cmd_generate}


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


if __name__ == "__main__":
    sys.exit(main())
