"""The classifier's commands: train, evaluate, predict, explain, bench (and the dispatch of
their generator variants to nameclf.cli.generate)."""

import json
import sys
from dataclasses import asdict, replace

from nameclf.classify.presets import DEFAULT_PRESET, PRESETS
from nameclf.cli.data import load_data
from nameclf.cli.progress import StepBar
from nameclf.errors import NameclfError


def shaping_preset(args, model_cfg) -> str | None:
    """The preset that shaped the run, or None: the default preset's recurrent settings do not
    apply to a lone n-gram model, nor does a named preset that sets none of its fields."""
    if model_cfg.cell != "ngram":
        return args.preset or DEFAULT_PRESET
    return args.preset if args.preset and PRESETS[args.preset][0].get("lexicon") else None


def train_configs(args):
    """(model config, train config, split, seed) that the train flags describe: a preset, then
    the flags given over it. A bad model setting is one line before any data is read."""
    from nameclf.classify.presets import override, preset

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
    seed = 0 if args.seed is None else args.seed
    train_cfg.seed = seed
    # sizes come from the data: check the rest before reading it
    replace(model_cfg, vocab_size=3, n_classes=2).validate()
    return model_cfg, train_cfg, args.split or split, seed


def cmd_train(args) -> int:
    if args.task == "generate":
        from nameclf.cli.generate import train_generate

        return train_generate(args)
    import torch

    from nameclf.classify.checkpoint import save
    from nameclf.classify.pipeline import fit, prepare
    from nameclf.device import pick_device

    model_cfg, train_cfg, split, seed = train_configs(args)
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
    from nameclf.classify.checkpoint import load
    from nameclf.classify.evaluate import log_probs, metrics_from, name_top1
    from nameclf.classify.pipeline import check_compatible, encode_for
    from nameclf.data.splits import make_split, top1_ceiling

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
    from nameclf.classify.checkpoint import load
    from nameclf.classify.pipeline import predict

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
    from nameclf.classify.prefix import prefix_note, prefix_predictions

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
    from nameclf.batching.encoding import explain
    from nameclf.data.vocab import normalize

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
        from nameclf.cli.generate import bench_generate

        return bench_generate(args)
    import torch

    from nameclf.classify.config import ModelConfig
    from nameclf.classify.pipeline import prepare
    from nameclf.device import describe, pick_device
    from nameclf.lab.race import RaceConfig, race
    from nameclf.lab.speedups import ratios

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
    from nameclf.cli.generate import cmd_generate as generate

    return generate(args)
