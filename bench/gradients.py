"""The gradient half of batching on the reference file: issue 23's targets, side by side.

    python bench/gradients.py [--data ../shared/data/name2lang.txt] [--skip-race]

Measures the `fast` preset's model at its first weights and after 600 of its steps (the
`gradnoise` command's `--steps 600`), then runs the batch-size race at its defaults (the
`batch-race` command). Prints each figure beside its target and one JSON line. The machine may
be shared: the load average is printed with the figures.
"""

import argparse
import json
import os
import time
from dataclasses import replace
from pathlib import Path

import torch

from nameclf.classify.model import NameClassifier
from nameclf.classify.pipeline import prepare
from nameclf.classify.presets import preset
from nameclf.data.dataset import load_dataset
from nameclf.lab.batch_race import BatchRaceConfig, race_batch_sizes
from nameclf.lab.gradnoise import NoiseConfig, measure_noise, train_steps

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "name2lang.txt"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(REFERENCE))
    parser.add_argument("--skip-race", action="store_true")
    args = parser.parse_args()
    prep = prepare(load_dataset(args.data), "names", seed=0)
    model_cfg, train_cfg, _ = preset("fast")
    model_cfg = replace(model_cfg, vocab_size=len(prep.vocab), n_classes=len(prep.classes))
    torch.manual_seed(0)
    model = NameClassifier(model_cfg)
    init = measure_noise(model, prep.train, NoiseConfig())
    started = time.perf_counter()
    train_steps(model, prep.train, train_cfg, 600)
    trained_s = time.perf_counter() - started
    trained = measure_noise(model, prep.train, NoiseConfig())
    out = {"load": os.getloadavg()[0], "threads": torch.get_num_threads(),
           "slope_init": init.slope, "slope_trained": trained.slope,
           "b_simple_init": init.b_simple, "b_simple_trained": trained.b_simple,
           "b_simple_from_b1_init": init.b_simple_from_b1,
           "b_simple_from_b1_trained": trained.b_simple_from_b1,
           "accumulation_init": init.accumulation_max_rel_diff,
           "accumulation_trained": trained.accumulation_max_rel_diff,
           "gradnoise_seconds": init.seconds + trained.seconds, "training_600_s": trained_s}
    print(f"load {out['load']:.1f}, {out['threads']} threads")
    print(f"slope            init {init.slope:.3f}  trained {trained.slope:.3f}   "
          "target -1.1 … -0.9")
    print(f"B_simple         init {init.b_simple:,.1f}  trained {trained.b_simple:,.1f}   "
          "target: trained > init")
    print(f"B_simple (B=1)   init {init.b_simple_from_b1:,.1f}  trained "
          f"{trained.b_simple_from_b1:,.1f}")
    print(f"accumulation     init {init.accumulation_max_rel_diff:.1e}  trained "
          f"{trained.accumulation_max_rel_diff:.1e}   target ≤ 1e-5")
    print(f"gradnoise        {init.seconds:.1f} s + {trained.seconds:.1f} s   target ≤ 15 s "
          f"(training 600 steps: {trained_s:.1f} s, not counted)")
    if not args.skip_race:
        race = race_batch_sizes(model_cfg, train_cfg, prep.train, prep.test, BatchRaceConfig())
        out["race_seconds"] = race["seconds"]
        out["race"] = [{k: lane[k] for k in ("batch_size", "lr", "status", "steps_to_target",
                                             "examples_to_target", "seconds_to_target",
                                             "names_per_second")} for lane in race["lanes"]]
        out["target_loss"] = race["target_loss"]
        print(f"batch-size race  {race['seconds']:.1f} s   target ≤ 120 s; target loss "
              f"{race['target_loss']:.3f}")
        for lane in out["race"]:
            steps, names = lane["steps_to_target"] or "—", lane["examples_to_target"] or "—"
            print(f"  B {lane['batch_size']:>4}  {lane['status']:<12} steps {steps:>6}  "
                  f"names {names:>7}  s {lane['seconds_to_target'] or 0:>6.1f}  "
                  f"{lane['names_per_second']:>8,.0f} names/s")
    print(json.dumps(out))


if __name__ == "__main__":
    main()
