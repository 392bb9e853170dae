"""The gradient commands: gradnoise (what a batch does to the gradient) and batch-race (what
that means for training). Both print one JSON line with --json."""

import argparse
import json
import math
import sys
from dataclasses import replace
from pathlib import Path

from nameclf.classify.presets import DEFAULT_PRESET, PRESETS
from nameclf.cli.data import load_data
from nameclf.errors import ConfigError


def int_list(text: str) -> tuple[int, ...]:
    """`1,16,128` -> (1, 16, 128), for argparse."""
    try:
        values = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of whole numbers: {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("batch sizes must be positive whole numbers")
    return values


def add_gradient_parsers(sub, add_data_args) -> None:
    """The gradnoise and batch-race subcommands."""
    g = sub.add_parser("gradnoise", help="gradient noise against batch size, at init and after "
                       "training (McCandlish et al.'s noise scale, accumulation check)")
    add_data_args(g)
    g.add_argument("--preset", choices=list(PRESETS), default=None,
                   help=f"the model to measure (default {DEFAULT_PRESET}; a mixture's "
                        "recurrent part)")
    g.add_argument("--checkpoint", type=Path, help="measure a trained classifier instead")
    g.add_argument("--steps", type=int, default=0,
                   help="train the preset this many steps, then measure again (0: init only)")
    g.add_argument("--pool", type=int, default=4096, help="training names G is the mean over")
    g.add_argument("--draws", type=int, default=32, help="batches drawn per batch size")
    g.add_argument("--json", action="store_true", help="print one JSON line")

    r = sub.add_parser("batch-race", help="train at several batch sizes to a target held-out "
                       "loss: steps and seconds to reach it (Shallue et al.)")
    add_data_args(r)
    r.add_argument("--preset", choices=list(PRESETS), default=None,
                   help=f"the model and the target run (default {DEFAULT_PRESET})")
    r.add_argument("--batch-sizes", type=int_list, default=(1, 16, 128, 512),
                   help="comma-separated, default 1,16,128,512")
    r.add_argument("--target-loss", type=float, default=None,
                   help="held-out loss to reach (default: the preset's after 600 of its steps)")
    r.add_argument("--max-examples", type=int, default=80_000,
                   help="names a batch size may see before it reads 'not reached'")
    r.add_argument("--lane-seconds", type=float, default=45.0,
                   help="training seconds per batch size at most (0: no limit)")
    r.add_argument("--json", action="store_true", help="print one JSON line")


def finite(value):
    """JSON has no NaN or infinity: they become null, recursively."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def model_and_pool(args):
    """(the model at its current weights, its training names, the preset's run settings:
    None for a checkpoint, which is measured as it is)."""
    import torch

    from nameclf.classify.mixture import recurrent_config
    from nameclf.classify.model import NameClassifier
    from nameclf.classify.pipeline import prepare
    from nameclf.classify.presets import preset

    if args.checkpoint is not None:
        from nameclf.classify.checkpoint import load
        from nameclf.classify.pipeline import check_compatible, encode_for
        from nameclf.data.splits import make_split

        if args.steps:
            raise ConfigError("--steps trains a preset from its first weights; a checkpoint "
                              "is measured as it is")
        run = checkpoint_run(load, args.checkpoint)
        ds = load_data(args)
        check_compatible(run, ds)
        split = make_split(ds, args.split or run.info.get("split", "names"),
                           seed=args.seed or 0)
        return run.model, encode_for(run, ds, split.train, "cpu"), None
    model_cfg, train_cfg, split = preset(args.preset or DEFAULT_PRESET)
    seed = args.seed or 0
    prep = prepare(load_data(args), args.split or split, seed=seed)
    model_cfg = replace(recurrent_config(model_cfg), vocab_size=len(prep.vocab),
                        n_classes=len(prep.classes))
    if model_cfg.cell == "ngram":
        raise ConfigError("the n-gram baseline is counted, not trained by gradients: choose a "
                          "recurrent preset")
    torch.manual_seed(seed)
    return NameClassifier(model_cfg), prep.train, replace(train_cfg, seed=seed)


def checkpoint_run(load, path: Path):
    """A classifier checkpoint, or one line saying why not (a generator's, say)."""
    from nameclf.errors import CheckpointError

    try:
        return load(path)
    except CheckpointError as err:
        from nameclf.generate.checkpoint import load as load_generator

        try:
            load_generator(path)
        except Exception:  # noqa: BLE001  (not a generator either: the classifier's reason)
            raise err from None
        raise ConfigError(f"{path} is a generator checkpoint: gradnoise measures a "
                          "classifier") from None


def cmd_gradnoise(args) -> int:
    from nameclf.lab.gradnoise import NoiseConfig, measure_noise, train_steps

    if args.steps < 0:
        raise ConfigError("--steps must be 0 or more")
    cfg = NoiseConfig(pool=args.pool, draws=args.draws, seed=args.seed or 0)
    model, pool, train_cfg = model_and_pool(args)
    first = measure_noise(model, pool, cfg)
    if not args.steps:
        out = first.to_dict()
    else:
        taken = train_steps(model, pool, train_cfg, args.steps)
        out = {"init": first.to_dict(), "trained": measure_noise(model, pool, cfg).to_dict(),
               "steps": taken}
    if args.json:
        print(json.dumps(finite(out)))
        return 0
    for label, result in ([("", out)] if not args.steps else
                          [("at init", out["init"]), (f"after {out['steps']} steps",
                                                       out["trained"])]):
        print_noise(result, label)
    return 0


def print_noise(result: dict, label: str) -> None:
    """One measurement as a short table."""
    print(f"gradient noise {label}".rstrip() + f" ({result['pool']} names, "
          f"{result['draws']} draws, {result['seconds']:.1f} s)")
    print(f"{'B':>5} {'|g_B - G|²':>12} {'cosine':>7}")
    for b, mse, cos in zip(result["batch_sizes"], result["mse"], result["cosine"], strict=True):
        print(f"{b:>5} {mse:>12.4g} {cos:>7.3f}")
    acc = result["accumulation_max_rel_diff"]
    print(f"slope {result['slope']:.2f} (1/B: -1) · B_simple {result['b_simple']:.0f} "
          f"(from B=1: {result['b_simple_from_b1']:.0f}) · accumulation "
          + ("n/a" if acc is None else f"{acc:.1e}"))
    for note in result["notes"]:
        print(f"note: {note}", file=sys.stderr)


def cmd_batch_race(args) -> int:
    from nameclf.classify.mixture import recurrent_config
    from nameclf.classify.pipeline import prepare
    from nameclf.classify.presets import preset
    from nameclf.lab.batch_race import BatchRaceConfig, race_batch_sizes

    cfg = BatchRaceConfig(batch_sizes=args.batch_sizes, target_loss=args.target_loss,
                          max_examples=args.max_examples, lane_seconds=args.lane_seconds,
                          seed=args.seed or 0)
    model_cfg, train_cfg, split = preset(args.preset or DEFAULT_PRESET)
    if model_cfg.cell == "ngram":
        raise ConfigError("the n-gram baseline has no batches: choose a recurrent preset")
    prep = prepare(load_data(args), args.split or split, seed=cfg.seed)
    model_cfg = replace(recurrent_config(model_cfg), vocab_size=len(prep.vocab),
                        n_classes=len(prep.classes))
    out = race_batch_sizes(model_cfg, replace(train_cfg, seed=cfg.seed), prep.train, prep.test,
                           cfg)
    if args.json:
        print(json.dumps(finite(out)))
        return 0
    print(f"target held-out loss {out['target_loss']:.3f} ({out['target_from']})")
    print(f"learning rate: {out['rule']}")
    print(f"{'B':>5} {'lr':>8} {'steps':>6} {'names':>7} {'seconds':>8} {'names/s':>8}  result")
    for lane in out["lanes"]:
        hit = lane["reached"]
        print(f"{lane['batch_size']:>5} {lane['lr']:>8.5f} "
              f"{lane['steps_to_target'] if hit else '—':>6} "
              f"{lane['examples_to_target'] if hit else '—':>7} "
              f"{format(lane['seconds_to_target'], '.1f') if hit else '—':>8} "
              f"{lane['names_per_second']:>8,.0f}  {lane['status']}")
    for note in out["notes"]:
        print(f"note: {note}", file=sys.stderr)
    return 0
