"""Command line of the generator: `train --task generate`, `generate`, `bench --task generate`.

nameclf.cli parses the arguments and dispatches here; this module imports torch only inside
the commands, so `python -m nameclf --help` stays quick.
"""

import argparse
import json
import os
import sys
from pathlib import Path

from nameclf.cli.progress import StepBar
from nameclf.errors import NameclfError


def one_thread(device) -> None:
    """Train a generator on one CPU thread unless OMP_NUM_THREADS says otherwise: these
    small nets gain little from more, and on a busy 2-core machine a second thread made
    them up to 10x slower (measured: 256 vs ~2,000 names/s)."""
    import torch

    if device.type == "cpu" and "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(1)


CLASSIFIER_ONLY = ("bidirectional", "lexicon", "kernel", "class_weighting",
                   "label_smoothing", "momentum")


def add_generate_parser(sub) -> None:
    """The `generate` subcommand."""
    g = sub.add_parser("generate", help="sample names from a generator checkpoint")
    g.add_argument("--checkpoint", type=Path, required=True,
                   help="a generator's model.safetensors (train --task generate)")
    g.add_argument("--label", help="the label to generate; default: every label")
    g.add_argument("-n", type=int, default=10, help="names per label")
    g.add_argument("--temperature", type=float, default=0.8,
                   help="<1 safer, >1 wilder, 0 = always the likeliest character")
    g.add_argument("--top-k", type=int, default=0, help="sample among the k likeliest; 0 = all")
    g.add_argument("--start", default="", metavar="PREFIX", help="every name starts so")
    g.add_argument("--max-len", type=int, default=20, help="characters at most")
    g.add_argument("--seed", type=int, default=0, help="same seed, same names")
    g.add_argument("--classifier", type=Path,
                   help="a classifier checkpoint to judge the names: adds agreement (and its "
                        "top-1 on the real test names of each label, when the data loads)")
    g.add_argument("--data", help="data for the real test names (default: the generator's)")
    g.add_argument("--json", action="store_true", help="print JSON instead of text")


def gen_configs(args):
    """(generator config, its train config, seed) that the train flags describe with
    --task generate: a generator preset, then the flags given over it."""
    from nameclf.classify.presets import override
    from nameclf.generate.config import DEFAULT_GEN_PRESET, gen_preset

    given = [k for k in CLASSIFIER_ONLY if getattr(args, k, None) not in (None, False)]
    if given:
        raise NameclfError(f"--{given[0].replace('_', '-')} does not apply to --task generate")
    if args.cell == "ngram":
        raise NameclfError("--task generate trains rnn, lstm or gru (the n-gram LM baseline "
                           "is fitted and reported beside it)")
    model_cfg, train_cfg = gen_preset(args.preset or DEFAULT_GEN_PRESET)
    values = vars(args)
    model_cfg = override(model_cfg, values)
    if args.steps is not None and args.epochs is None:
        values = dict(values, epochs=0.0)
    elif args.epochs is not None and args.steps is None:
        values = dict(values, steps=0)
    train_cfg = override(train_cfg, values)
    seed = 0 if args.seed is None else args.seed
    train_cfg.seed = seed
    train_cfg.validate()
    return model_cfg, train_cfg, seed


def train_generate(args) -> int:
    """`train --task generate`: fit a generator and the n-gram LM, print one JSON line."""

    from nameclf.cli.data import load_data
    from nameclf.device import pick_device
    from nameclf.generate.batches import prepare_lm
    from nameclf.generate.checkpoint import save
    from nameclf.generate.config import DEFAULT_GEN_PRESET
    from nameclf.generate.train import DIVERGED, fit_generator

    model_cfg, train_cfg, seed = gen_configs(args)
    device = pick_device(args.device)
    one_thread(device)
    ds = load_data(args)
    prep = prepare_lm(ds, args.split or "names", seed=seed, device=device)
    def figures(p) -> dict[str, str]:
        post = {"nats/char": f"{p.running_loss:.3f}", "names/s": f"{p.names_per_second:,.0f}"}
        return post | ({"test bits/char": f"{p.test_bpc:.3f}"} if p.test_bpc is not None else {})

    info = {"data": args.data, "ascii_fold": not args.keep_unicode, "seed": seed,
            "device": str(device), "preset": args.preset or DEFAULT_GEN_PRESET, "task": "generate"}
    with StepBar(args.quiet, figures) as report:
        run = fit_generator(prep, model_cfg, train_cfg, report, info=info)
    m = run.metrics
    args.out.mkdir(parents=True, exist_ok=True)
    save(run, args.out / "model.safetensors")
    summary = {"task": "generate", "model": run.model_config.cell, "preset": info["preset"],
               "batching": train_cfg.batching, "status": run.status,
               **{k: run.info[k] for k in ("split", "n_train", "n_test", "steps",
                                            "train_seconds", "names_per_second")},
               "test_bits_per_char": m["test_bits_per_char"],
               "net_bits_per_char": m["net_bits_per_char"], "ngram_weight": m["ngram_weight"],
               "baseline_bits_per_char": m["baseline_bits_per_char"], "baseline": m["baseline"]}
    record = {"summary": summary, "metrics": run.metrics, "info": run.info,
              "model_config": run.model_config.to_dict(), "train_config": vars(train_cfg),
              "history": run.history}
    (args.out / "metrics.json").write_text(json.dumps(record, indent=1))
    print(json.dumps(summary))
    return 1 if run.status == DIVERGED else 0


def real_test_names(run, data: str | None) -> tuple[list[str], list[str]] | None:
    """The generator's own test split (names, labels), reloaded from its data; None if the
    data cannot be loaded here."""
    from nameclf.data.dataset import load_dataset
    from nameclf.data.splits import make_split

    source = data or run.info.get("data")
    if not source:
        return None
    try:
        ds = load_dataset(source, ascii_fold=run.info.get("ascii_fold", True))
    except (NameclfError, OSError):
        if data:  # asked for by name: say why it failed
            raise
        return None
    sp = make_split(ds, run.info.get("split", "names"), seed=int(run.info.get("seed", 0)))
    return [ds.names[i] for i in sp.test], [ds.labels[i] for i in sp.test]


def cmd_generate(args) -> int:
    """`generate`: names by label, with novelty (and agreement with --classifier)."""
    from nameclf.generate.checkpoint import load
    from nameclf.generate.sampling import SampleConfig, judge, sample_names

    run = load(args.checkpoint)
    labels = [args.label] if args.label is not None else run.classes
    per_label = {}
    for i, label in enumerate(labels):
        cfg = SampleConfig(label, args.n, args.temperature, args.top_k, args.start,
                           args.max_len, args.seed + i)
        per_label[label] = sample_names(run, cfg)
    classifier = None
    if args.classifier is not None:
        from nameclf.classify.checkpoint import load as load_classifier

        classifier = load_classifier(args.classifier)
    real = real_test_names(run, args.data) if classifier is not None else None
    scores = judge(run, classifier, per_label, real)
    if args.json:
        names = per_label[args.label] if args.label is not None else per_label
        print(json.dumps({"label": args.label, "temperature": args.temperature,
                          "names": names, **scores}))
        return 0
    for label, names in per_label.items():
        print(f"{label}: {', '.join(names)}")
    line = [f"novelty {scores['novelty']:.0%}"] if scores.get("novelty") is not None else []
    if "agreement" in scores:
        line.append(f"agreement {scores['agreement']:.0%}")
    if "classifier_top1" in scores:
        line.append(f"(classifier top-1 on real test names {scores['classifier_top1']:.0%})")
    if line:
        print(" · ".join(line), file=sys.stderr)
    return 0


def bench_generate(args) -> int:
    """`bench --task generate`: the three batching modes race on the same generator."""
    import torch

    from nameclf.cli.data import load_data
    from nameclf.device import describe, pick_device
    from nameclf.generate.batches import prepare_lm
    from nameclf.generate.config import GeneratorConfig
    from nameclf.lab.generate_race import GenRaceConfig, race

    device = pick_device(args.device)
    one_thread(device)
    prep = prepare_lm(load_data(args), args.split or "names", seed=args.seed or 0,
                      device=device)
    model_cfg = GeneratorConfig(cell=args.cell, vocab_size=len(prep.vocab),
                                n_labels=len(prep.classes), hidden_size=args.hidden,
                                embedding_dim=args.embedding_dim or 32)
    cfg = GenRaceConfig(n_names=min(args.names, len(prep.train)), batch_size=args.names,
                        seconds=args.seconds)
    result = race(model_cfg, prep.train, cfg)
    out = {"task": "generate", "model": args.cell, "names": cfg.n_names,
           "batch_size": cfg.batch_size, "device": describe(device),
           "threads": torch.get_num_threads(), **result}
    if args.json:
        print(json.dumps(out))
        return 0
    for mode, speed in result["names_per_second"].items():
        print(f"{mode:>12}: {speed:>10,.0f} names/s")
    for key, value in result["ratios"].items():
        print(f"{key}: {value:.1f}x")
    fb = result["first_batch"]
    print(f"first batch: masked loss {fb['masked']:.4f} = packed {fb['packed']:.4f}; "
          f"unmasked {fb['unmasked']:.4f} ({fb['pad_share']:.0%} of cells are padding)")
    return 0


def add_task_option(p: argparse.ArgumentParser) -> None:
    """`--task classify|generate` on train and bench."""
    p.add_argument("--task", choices=["classify", "generate"], default="classify",
                   help="classify names (default) or train a name generator (docs/generate.md)")
