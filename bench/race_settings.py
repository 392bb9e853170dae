"""The Speed race page's race, at several settings, from the command line.

    python bench/race_settings.py                       # the built-in Faker surnames
    python bench/race_settings.py --data /path/to/name2lang.txt --seconds 2

Each setting runs exactly what the page runs (nameclf.charts.race.race_data, then
nameclf.lab.race.race with its turns), on one torch thread as the app's training jobs do, and
prints names/s per contestant, the ratios and the page's verdict sentence. Settings:
cell,hidden,names,batch,embedding (0 = one-hot). The machine may be shared: the load is shown.
"""

import argparse
import json
import os

import torch

from nameclf.charts.race import padding_waste, race_data, verdict
from nameclf.classify.config import ModelConfig
from nameclf.data.dataset import DEFAULT_SOURCE, load_dataset
from nameclf.lab.race import RaceConfig, race
from nameclf.lab.speedups import ratios

SETTINGS = [
    "rnn,128,512,512,0",  # the page's defaults: the tutorial's setup, one batch of all N
    "rnn,128,256,256,0",  # the CLI's `bench --names 256`
    "lstm,64,256,64,0",  # the page's old defaults, where packing lost
    "lstm,16,256,64,32",  # tiny cells: the bookkeeping dominates
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("settings", nargs="*", default=SETTINGS,
                        help="cell,hidden,names,batch,embedding")
    parser.add_argument("--data", default=DEFAULT_SOURCE, help="a dataset source")
    parser.add_argument("--seconds", type=float, default=2.0, help="seconds per contestant")
    args = parser.parse_args()
    torch.set_num_threads(1)  # as the app's training jobs (nameclf.ui.cache.THREADS_PER_JOB)
    ds = load_dataset(args.data)
    for spec in args.settings:
        cell, hidden, n, batch, emb = spec.split(",")
        enc, vocab_size, n_classes = race_data(ds, int(n), "cpu")
        cfg = ModelConfig(cell=cell, vocab_size=vocab_size, n_classes=n_classes,
                          hidden_size=int(hidden), embedding_dim=int(emb))
        load = f"{os.getloadavg()[0]:.1f}"
        speeds = race(cfg, enc, RaceConfig(n_names=int(n), batch_size=int(batch),
                                           seconds=args.seconds))
        skipped = padding_waste(enc.lengths.tolist(), min(int(batch), int(n)))
        print(json.dumps({"setting": spec, "load_before": load, "pad_share": round(skipped, 3),
                          "names_per_second": {k: round(v) for k, v in speeds.items()},
                          **{k: round(v, 2) for k, v in ratios(speeds).items()}}))
        print("   ", verdict(speeds, skipped), flush=True)


if __name__ == "__main__":
    main()
