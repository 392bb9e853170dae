"""First steps of the accuracy moonshot: larger bidirectional models and an n-gram ensemble.

    OMP_NUM_THREADS=1 python bench/moonshot.py gru 8     # cell, epochs

Tunes on a validation split carved out of training (10%); reports the test split too.
"""

import json
import sys
from pathlib import Path

import torch

from nameclf import ModelConfig, TrainConfig, fit, load_dataset, prepare
from nameclf.evaluate import log_probs, metrics_from, topk_hits

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "name2lang.txt"


def mix(a: torch.Tensor, b: torch.Tensor, w: float) -> torch.Tensor:
    """Log of the weighted mean of two models' probabilities."""
    return torch.log(w * a.exp() + (1 - w) * b.exp())


def main() -> None:
    cell, epochs = sys.argv[1], float(sys.argv[2])
    ds = load_dataset(REFERENCE)
    prep = prepare(ds, "names", seed=0, valid_frac=0.1)
    model_cfg = ModelConfig(cell=cell, embedding_dim=64, hidden_size=256, bidirectional=True,
                            dropout=0.3)
    train_cfg = TrainConfig(optimizer="adamw", lr=3e-3, weight_decay=0.01, batch_size=64,
                            epochs=epochs, sampling="bucket", schedule="cosine", clip_grad=1.0,
                            label_smoothing=0.1, eval_every=0)
    run = fit(prep, model_cfg, train_cfg)
    rv, rt = log_probs(run.model, prep.valid), log_probs(run.model, prep.test)
    print(json.dumps({"model": f"bi-{cell}", "train_seconds": round(run.info["train_seconds"], 1),
                      "valid_top1": topk_hits(rv, prep.valid.labels, (1,))[0], **run.metrics}))
    ngram = fit(prep, ModelConfig(cell="ngram"), TrainConfig())
    nv, nt = log_probs(ngram.model, prep.valid), log_probs(ngram.model, prep.test)
    print(json.dumps({"model": "ngram", "train_seconds": round(ngram.info["train_seconds"], 1),
                      "valid_top1": topk_hits(nv, prep.valid.labels, (1,))[0], **ngram.metrics}))
    for w in (0.3, 0.5, 0.7):  # pick w on the validation split, never on test
        test = metrics_from(mix(rt, nt, w), prep.test.labels, prep.classes)
        print(json.dumps({"model": f"ensemble w={w}",
                          "valid_top1": topk_hits(mix(rv, nv, w), prep.valid.labels, (1,))[0],
                          **test.summary()}))


if __name__ == "__main__":
    main()
