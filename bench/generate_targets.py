"""The generator's three targets in one run (issue 16), printed as JSON lines.

    python bench/generate_targets.py --data /path/to/name2lang.txt \
        [--classifier runs/fast/model.safetensors] [--preset gen-fast] [--seconds 3]

1. the preset trains (its own time budget, 60 s for gen-fast, the n-gram LM's fit included
   when it is mixed in) on the leak-free split; its test bits per character (the mixture's,
   and the net's alone) beside the Kneser-Ney n-gram LM's on the same test names;
2. per-sample vs padded vs packed names/s of one generator, side by side in one run;
3. samples at temperature 0.8 for every label: novelty, and agreement with the classifier
   (train one with `python -m nameclf train --preset fast --data ... --out runs/fast`)
   beside its own top-1 on the real test names of each label, macro-averaged.
"""

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="the reference `Name, Label` file")
    p.add_argument("--classifier", type=Path, help="a classifier checkpoint (the fast preset)")
    p.add_argument("--preset", default="gen-fast", help="generator preset")
    p.add_argument("--seconds", type=float, default=3.0, help="seconds per batching mode")
    p.add_argument("--names", type=int, default=256, help="names (one batch) in the race")
    p.add_argument("--samples", type=int, default=100, help="samples per label")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    import torch

    from nameclf.classify.checkpoint import load as load_classifier
    from nameclf.data.dataset import load_dataset
    from nameclf.generate.batches import prepare_lm
    from nameclf.generate.config import gen_preset
    from nameclf.generate.sampling import SampleConfig, judge, sample_names
    from nameclf.generate.train import fit_generator
    from nameclf.lab.generate_race import GenRaceConfig, race

    if "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(1)
    ds = load_dataset(args.data)
    prep = prepare_lm(ds, "names", seed=args.seed)
    model_cfg, train_cfg = gen_preset(args.preset)
    train_cfg.seed = args.seed
    t0 = time.perf_counter()
    run = fit_generator(prep, model_cfg, train_cfg, info={"data": args.data})
    m, info = run.metrics, run.info
    print(json.dumps({"target": "bits_per_char", "preset": args.preset, "status": run.status,
                      "steps": info["steps"], "train_seconds": info["train_seconds"],
                      "net_seconds": info["net_seconds"], "ngram_seconds": info["ngram_seconds"],
                      "wall_seconds": time.perf_counter() - t0,
                      "n_train": len(prep.train), "n_test": len(prep.test),
                      "test_bits_per_char": m["test_bits_per_char"],
                      "ngram_weight": m["ngram_weight"],
                      "net_bits_per_char": m["net_bits_per_char"],
                      "baseline_bits_per_char": m["baseline_bits_per_char"],
                      "baseline": m["baseline"], "threads": torch.get_num_threads()}), flush=True)

    cfg = GenRaceConfig(n_names=args.names, batch_size=args.names, seconds=args.seconds,
                        seed=args.seed)
    small = replace(run.model_config, cell="gru", hidden_size=128)  # a small GRU as well
    for model in (run.model_config, small):
        speeds = race(model, prep.train, cfg)
        print(json.dumps({"target": "batching_speed", "model": model.cell,
                          "hidden": model.hidden_size, "batch": args.names, **speeds}),
              flush=True)

    per_label = {label: sample_names(run, SampleConfig(label, args.samples, 0.8,
                                                       seed=args.seed + i))
                 for i, label in enumerate(prep.classes)}
    judge_run = load_classifier(args.classifier) if args.classifier else None
    scores = judge(run, judge_run, per_label, (prep.test_names, prep.test_labels))
    print(json.dumps({"target": "samples", "temperature": 0.8, "per_label": args.samples,
                      **scores, "examples": {k: v[:5] for k, v in per_label.items()}}))


if __name__ == "__main__":
    main()
