"""The cuda paths of nameclf, checked on a machine with a GPU (CI has none).

    python bench/gpu_check.py [--out FILE]

Each check prints one JSON line and never stops the others; the script exits 1 if any failed.
1. the device nameclf picks by itself, and its name;
2. the same weights give the same log-probabilities on cuda (cuDNN) as on the CPU (our
   kernel), for every cell, one and two directions, packed and padded batching: to 1e-5 in
   float32, to 1e-2 with the TF32 that PyTorch lets cuDNN use by default;
3. a model trained on cuda: completes with finite weights that stay on cuda; its checkpoint
   loads on the CPU and predicts the same; prefix predictions equal each prefix run alone;
4. the n-gram baseline predicts the same on cuda as on the CPU;
5. a GRU with the n-gram model mixed in, trained on cuda: every tensor stays there, and its
   checkpoint predicts the same on the CPU;
6. the speed race on cuda (per-sample, padded, packed names/s and ratios, printed);
7. the `fast` preset on the built-in dataset, cuda against the CPU (printed).
"""

import argparse
import json
import sys
import time
import traceback
from dataclasses import replace
from pathlib import Path

import torch

from nameclf import fit, load_dataset, prepare, preset
from nameclf.classify.checkpoint import from_bytes, to_bytes
from nameclf.classify.config import ModelConfig, TrainConfig
from nameclf.classify.evaluate import log_probs
from nameclf.classify.model import NameClassifier
from nameclf.classify.pipeline import predict
from nameclf.classify.prefix import prefix_predictions
from nameclf.data.dataset import LoadReport, NameDataset
from nameclf.device import describe, pick_device
from nameclf.lab.race import RaceConfig, contestants, race
from nameclf.lab.speedups import ratios

CUDA = torch.device("cuda")
LETTERS = {"A": "aeiou", "B": "kstrz", "C": "lmnpw"}  # three labels, told apart by letters


def synthetic(n: int = 60) -> NameDataset:
    """Names whose letters give their label away, so a few steps learn something."""
    g = torch.Generator().manual_seed(0)
    names, labels = [], []
    for label, letters in LETTERS.items():
        for _ in range(n):
            size = int(torch.randint(2, 9, (1,), generator=g))
            picks = torch.randint(0, len(letters), (size,), generator=g).tolist()
            names.append("".join(letters[i] for i in picks).capitalize())
            labels.append(label)
    return NameDataset(names, labels, LoadReport(source="synthetic"))


def check_device() -> dict:
    device = pick_device("auto")
    assert device.type == "cuda", f"picked {device}"
    return {"device": describe(device), "torch": torch.__version__}


def check_same_outputs() -> dict:
    """Exact float32 maths (TF32 off) to 1e-5; with PyTorch's default TF32 cuDNN, to 1e-2."""
    out = {}
    for tf32 in (False, True):
        torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = tf32
        worst = same_outputs(tol=1e-2 if tf32 else 1e-5)
        out["tf32" if tf32 else "fp32"] = {"max_abs_diff": max(worst.values()),
                                           "cases": len(worst)}
    torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = True, False
    return out


def same_outputs(tol: float) -> dict[str, float]:
    prep = prepare(synthetic(), "names", seed=0)
    idx, lengths = prep.test.idx.T, prep.test.lengths  # (T, B)
    worst = {}
    for cell in ("rnn", "lstm", "gru"):
        for bidirectional in (False, True):
            for emb in (0, 8):
                torch.manual_seed(0)
                cfg = ModelConfig(cell=cell, vocab_size=len(prep.vocab), n_classes=3,
                                  embedding_dim=emb, hidden_size=16, bidirectional=bidirectional)
                cpu = NameClassifier(cfg).eval()
                gpu = NameClassifier(cfg).to(CUDA).eval()
                gpu.load_state_dict(cpu.state_dict())
                for batching in ("packed", "padded") if not bidirectional else ("packed",):
                    with torch.no_grad():
                        want = cpu(idx, lengths, batching)
                        got = gpu(idx.to(CUDA), lengths, batching).cpu()
                    err = (got - want).abs().max().item()
                    worst[f"{cell}{'-bi' if bidirectional else ''}-emb{emb}-{batching}"] = err
                    assert err < tol, f"{cell} {batching}: {err}"
    return worst


def check_training_on_cuda() -> dict:
    prep = prepare(synthetic(), "names", seed=0, device=CUDA)
    model_cfg = ModelConfig(cell="lstm", embedding_dim=8, hidden_size=32)
    train_cfg = TrainConfig(batch_size=16, steps=200, eval_every=50, lr=0.01)
    run = fit(prep, model_cfg, train_cfg)
    assert run.status == "completed", run.status
    assert all(p.device.type == CUDA.type and torch.isfinite(p).all() for p in
               run.model.parameters())
    assert run.metrics["top1"] > 0.6, run.metrics  # letters give the label away
    back = from_bytes(to_bytes(run), device="cpu")  # safetensors, no pickle
    assert next(back.model.parameters()).device.type == "cpu"
    names = ["Kstr", "Aeio", "Lmnp", "Zz", "Q"]
    gap = max_gap([x.top for x in predict(back, names)], [x.top for x in predict(run, names)])
    assert gap < 2e-3, gap  # cuDNN (TF32 by default) on cuda, our kernel on the CPU
    steps = prefix_predictions(run, "Kstrz")  # one pass over the name on cuda
    alone = [predict(run, prefix)[0].top for prefix, _ in steps]
    prefix_gap = max_gap([top for _, top in steps], alone)
    assert prefix_gap < 2e-3, prefix_gap
    return {"top1": run.metrics["top1"], "train_seconds": round(run.info["train_seconds"], 2),
            "checkpoint_on_cpu_max_prob_gap": gap, "prefix_max_prob_gap": prefix_gap}


def max_gap(tops: list, others: list) -> float:
    """Largest probability difference between two lists of top-k; the labels must agree."""
    gap = 0.0
    for top, other in zip(tops, others, strict=True):
        assert [lab for lab, _ in top] == [lab for lab, _ in other], (top, other)
        gap = max(gap, *(abs(a - b) for (_, a), (_, b) in zip(top, other, strict=True)))
    return gap


def check_ngram_on_cuda() -> dict:
    prep = prepare(synthetic(), "names", seed=0)
    run = fit(prep, ModelConfig(cell="ngram"), TrainConfig())
    want = log_probs(run.model, prep.test)
    gpu = run.model.to(CUDA)
    test = replace(prep.test, idx=prep.test.idx.to(CUDA), labels=prep.test.labels.to(CUDA))
    got = log_probs(gpu, test).cpu()
    err = (got - want).abs().max().item()
    assert err < 1e-4, err
    return {"max_abs_diff": err, "top1": run.metrics["top1"]}


def check_mixture_on_cuda() -> dict:
    prep = prepare(synthetic(), "names", seed=0, device=CUDA)
    model_cfg = ModelConfig(cell="gru", embedding_dim=8, hidden_size=32, ngram_weight=0.3,
                            lexicon=True)  # word frequencies: computed on the CPU, then moved
    run = fit(prep, model_cfg, TrainConfig(batch_size=16, steps=100, eval_every=0, lr=0.01))
    assert run.status == "completed" and run.model_config.kind == "gru+ngram", run.status
    assert all(t.device.type == CUDA.type for t in [*run.model.parameters(),
                                                    *run.model.buffers()])
    back = from_bytes(to_bytes(run), device="cpu")
    names = ["Kstr", "Aeio", "Lmnp", "Zz", "Q"]
    gap = max_gap([x.top for x in predict(back, names)], [x.top for x in predict(run, names)])
    assert gap < 2e-3, gap  # the recurrent part: cuDNN (TF32) against our CPU kernel
    return {"top1": run.metrics["top1"], "parts_top1": run.info["parts_top1"],
            "checkpoint_on_cpu_max_prob_gap": gap}


def check_race() -> dict:
    ds = load_dataset()  # the built-in Faker surnames
    prep = prepare(ds, "names", seed=0, device=CUDA)
    out = {}
    for cell in ("rnn", "lstm"):
        cfg = ModelConfig(cell=cell, vocab_size=len(prep.vocab), n_classes=len(prep.classes),
                          hidden_size=128)
        speeds = race(cfg, prep.train, RaceConfig(n_names=256, batch_size=256, seconds=2.0))
        out[cell] = {"names_per_second": {k: round(v) for k, v in speeds.items()},
                     "ratios": {k: round(v, 1) for k, v in ratios(speeds).items()},
                     "contestants": list(contestants(cfg, CUDA))}
    return out


def check_fast_preset() -> dict:
    ds = load_dataset()
    model_cfg, train_cfg, split = preset("fast")
    out = {}
    for name in ("cuda", "cpu"):
        prep = prepare(ds, split, seed=0, device=name)
        start = time.perf_counter()
        run = fit(prep, model_cfg, replace(train_cfg, eval_every=0))
        out[name] = {"train_seconds": round(run.info["train_seconds"], 1),
                     "wall_seconds": round(time.perf_counter() - start, 1),
                     "names_per_second": round(run.info["names_per_second"]),
                     "top1": round(run.metrics["top1"], 4)}
    return out


CHECKS = [check_device, check_same_outputs, check_training_on_cuda, check_ngram_on_cuda,
          check_mixture_on_cuda, check_race, check_fast_preset]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="also write every result here, as JSON lines")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("gpu_check: no cuda device here", file=sys.stderr)
        return 1
    results = []
    for check in CHECKS:
        start = time.perf_counter()
        try:
            record = {"check": check.__name__, "ok": True, **check()}
        except Exception as err:  # noqa: BLE001 (report it, go on with the next check)
            record = {"check": check.__name__, "ok": False, "error": repr(err),
                      "where": traceback.format_exc().splitlines()[-3:]}
        record["seconds"] = round(time.perf_counter() - start, 1)
        print(json.dumps(record), flush=True)
        results.append(record)
    if args.out:
        args.out.write_text("".join(json.dumps(r) + "\n" for r in results))
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
