"""The accuracy moonshot: one idea at a time against a base model, then ensembles.

    python bench/moonshot.py [--only base,no-bidir,...] [--threads 1] [--out runs/moonshot]

Every model is tuned on a validation split carved out of training (10% of the training
names, grouped and stratified like the test split) and chosen by its validation top-1;
the test split is only reported. The `+faker` experiments add Faker's surnames of the
same labels to training (never a validation or test name) and undo the label prior they
shift. Each experiment prints one JSON line, saves its
validation and test log-probabilities under --out, and the ensembles at the end mix
those files, picking their weights on validation. The README's ablation table is this
script's output.
"""

import argparse
import json
import random
import time
from dataclasses import replace
from pathlib import Path

import torch

from nameclf import ModelConfig, TrainConfig, fit, load_dataset, prepare, preset
from nameclf.batching.batches import encode_names
from nameclf.classify.evaluate import log_probs, metrics_from, topk_hits
from nameclf.classify.ngram import NgramConfig, fit_ngram

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "data" / "name2lang.txt"

# the base model, and each experiment as the fields it changes
BASE_MODEL = dict(cell="gru", embedding_dim=64, hidden_size=256, bidirectional=True, dropout=0.3)
BASE_TRAIN = dict(optimizer="adamw", lr=3e-3, weight_decay=0.01, batch_size=64, steps=0,
                  epochs=8, sampling="bucket", schedule="cosine", clip_grad=1.0,
                  label_smoothing=0.1, eval_every=0)
EXPERIMENTS: dict[str, tuple[dict, dict]] = {
    "fast": ({}, {}),  # the fast preset itself, for reference
    "base": ({}, {}),
    "lstm": (dict(cell="lstm"), {}),
    "rnn": (dict(cell="rnn"), {}),
    "no-bidir": (dict(bidirectional=False), {}),
    "one-hot": (dict(embedding_dim=0), {}),
    "hidden-128": (dict(hidden_size=128), {}),
    "hidden-512": (dict(hidden_size=512), {}),
    "two-layers": (dict(num_layers=2), {}),
    "no-dropout": (dict(dropout=0.0), {}),
    "no-smoothing": ({}, dict(label_smoothing=0.0)),
    "class-weights": ({}, dict(class_weighting=True)),
    "no-bucket": ({}, dict(sampling="epoch")),
    "constant-lr": ({}, dict(schedule="constant")),
    "epochs-4": ({}, dict(epochs=4)),
    "epochs-12": ({}, dict(epochs=12)),
    "batch-128": ({}, dict(batch_size=128, lr=4e-3)),
    "seed-1": ({}, dict(seed=1)),
    "seed-2": ({}, dict(seed=2)),
    "lstm-seed-1": (dict(cell="lstm"), dict(seed=1)),
}
NGRAMS: dict[str, dict] = {  # NgramConfig fields, and ModelConfig's lexicon
    "ngram": {},  # the default: n-grams seen in at least 2 training names (min_df 2)
    "ngram-C30": dict(C=30.0),
    "ngram-every": dict(min_df=1),  # every n-gram kept, the default before
    "ngram-every-1-5": dict(min_df=1, max_n=5),
    "ngram-every-C3": dict(min_df=1, C=3.0),
    "ngram-every-C30": dict(min_df=1, C=30.0),
    "ngram-every-char": dict(min_df=1, analyzer="char"),
    # outside knowledge: how common the name is as a word in 12 languages (nameclf.data.lexicon)
    "ngram+lexicon": dict(lexicon=True),
    "ngram+lexicon-C3": dict(lexicon=True, C=3.0),
    "ngram+lexicon-C30": dict(lexicon=True, C=30.0),
}
# outside data: Faker's surnames of the same labels (bar any name in validation or test) added
# to training, and the label prior they shift put back: experiment -> (base, share of Faker's)
EXTERNAL: dict[str, tuple[str, float]] = {
    "lstm+faker-0.3": ("lstm", 0.3),
    "ngram-every-C30+faker-0.3": ("ngram-every-C30", 0.3),
    "ngram-every-C30+faker-1": ("ngram-every-C30", 1.0),
}


def configs(name: str) -> tuple[ModelConfig, TrainConfig]:
    """The configs of one experiment."""
    if name == "fast":
        model_cfg, train_cfg, _ = preset("fast")
        return model_cfg, replace(train_cfg, eval_every=0)
    model, train = EXPERIMENTS[name]
    return ModelConfig(**(BASE_MODEL | model)), TrainConfig(**(BASE_TRAIN | train))


def with_faker(ds, prep, share: float, seed: int = 0):
    """Training plus `share` of Faker's surnames of the same labels, and the log-prior shift
    (reference training prior over the mixed one) that gives back reference probabilities."""
    faker = load_dataset()  # the offline built-in dataset
    label_id = {c: i for i, c in enumerate(prep.classes)}
    held = {ds.names[i] for i in prep.split.valid + prep.split.test}
    extra = [(n, label_id[lab]) for n, lab in zip(faker.names, faker.labels)
             if lab in label_id and n not in held]
    random.Random(seed).shuffle(extra)
    extra = extra[: round(share * len(extra))]
    train_rows = prep.split.train
    train = encode_names([ds.names[i] for i in train_rows] + [n for n, _ in extra],
                         [label_id[ds.labels[i]] for i in train_rows] + [lab for _, lab in extra],
                         prep.vocab)
    prior = lambda labels: torch.bincount(labels, minlength=len(prep.classes)) / len(labels)  # noqa: E731
    return replace(prep, train=train), prior(prep.train.labels).log() - prior(train.labels).log()


def train_model(prep, name: str):
    """Fit one reference-data experiment: (model, training seconds)."""
    if name in NGRAMS:
        settings = dict(NGRAMS[name])
        model_cfg = ModelConfig(cell="ngram", vocab_size=len(prep.vocab),
                                n_classes=len(prep.classes),
                                lexicon=settings.pop("lexicon", False))
        model, result = fit_ngram(prep.train, prep.vocab, model_cfg, TrainConfig(),
                                  ngram_config=NgramConfig(**settings))
        return model, result.seconds
    run = fit(prep, *configs(name))
    return run.model, run.info["train_seconds"]


def run_one(ds, prep, name: str, out: Path) -> dict:
    """Train one experiment; save its log-probabilities; report validation and test."""
    start = time.perf_counter()
    if name in EXTERNAL:
        base, share = EXTERNAL[name]
        mixed, shift = with_faker(ds, prep, share)
        model, seconds = train_model(mixed, base)
        valid, test = ((log_probs(model, s) + shift).log_softmax(1)
                       for s in (prep.valid, prep.test))
    else:
        model, seconds = train_model(prep, name)
        valid, test = log_probs(model, prep.valid), log_probs(model, prep.test)
    torch.save({"valid": valid, "test": test}, out / f"{name}.pt")
    metrics = metrics_from(test, prep.test.labels, prep.classes).summary()
    record = {"experiment": name, "train_seconds": round(seconds, 1),
              "wall_seconds": round(time.perf_counter() - start, 1),
              "valid_top1": round(topk_hits(valid, prep.valid.labels, (1,))[0], 4),
              **{k: round(metrics[k], 4) for k in ("top1", "top2", "macro_f1")}}
    print(json.dumps(record), flush=True)
    return record


def mix(logps: list[torch.Tensor], weights: list[float]) -> torch.Tensor:
    """Log of the weighted mean of several models' probabilities."""
    probs = sum(w * lp.exp() for w, lp in zip(weights, logps))
    return torch.log(probs / sum(weights))


def ensembles(prep, out: Path) -> None:
    """Neural members averaged, plus an n-gram weight chosen on validation."""
    saved = {p.stem: torch.load(p, weights_only=True) for p in sorted(out.glob("*.pt"))}
    by_valid = lambda n: -topk_hits(saved[n]["valid"], prep.valid.labels, (1,))[0]  # noqa: E731
    neural = sorted((n for n in saved if n in EXPERIMENTS and n != "fast"), key=by_valid)
    ngrams = sorted((n for n in saved if n in NGRAMS), key=by_valid)
    if not neural or not ngrams:
        return
    lexicon = [n for n in ngrams if NGRAMS[n].get("lexicon")]
    plain = [n for n in ngrams if not NGRAMS[n].get("lexicon")]
    for best_ngram in [family[0] for family in (plain, lexicon) if family]:  # best of each
        for k in (1, 2, 3, 5):
            members = neural[:k]
            if len(members) < k:
                break
            valid_nn = mix([saved[m]["valid"] for m in members], [1.0] * k)
            test_nn = mix([saved[m]["test"] for m in members], [1.0] * k)
            scores = {}
            for w in (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8):  # weight of the n-gram model
                v = mix([valid_nn, saved[best_ngram]["valid"]], [1 - w, w])
                scores[w] = topk_hits(v, prep.valid.labels, (1,))[0]
            w = max(scores, key=scores.get)
            test = mix([test_nn, saved[best_ngram]["test"]], [1 - w, w])
            metrics = metrics_from(test, prep.test.labels, prep.classes).summary()
            print(json.dumps({"experiment": f"ensemble top-{k} neural + {best_ngram}",
                              "members": members, "ngram_weight": w,
                              "valid_top1": round(scores[w], 4),
                              "valid_by_weight": {f"{k:g}": round(v, 4) for k, v in scores.items()},
                              **{m: round(metrics[m], 4) for m in ("top1", "top2", "macro_f1")}}),
                  flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(REFERENCE), help="the reference name2lang.txt")
    parser.add_argument("--only", default=",".join([*EXPERIMENTS, *NGRAMS, *EXTERNAL]),
                        help="comma list of experiments (default: all)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = default)")
    parser.add_argument("--out", type=Path, default=Path("runs/moonshot"),
                        help="folder for each experiment's log-probabilities")
    parser.add_argument("--ensembles-only", action="store_true",
                        help="only mix the log-probabilities already saved in --out")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    args.out.mkdir(parents=True, exist_ok=True)
    ds = load_dataset(args.data)
    prep = prepare(ds, "names", seed=0, valid_frac=0.1)
    print(f"# torch {torch.__version__}, {torch.get_num_threads()} threads; "
          f"{len(prep.train)} train / {len(prep.valid)} valid / {len(prep.test)} test names",
          flush=True)
    if not args.ensembles_only:
        for name in args.only.split(","):
            run_one(ds, prep, name, args.out)
    ensembles(prep, args.out)


if __name__ == "__main__":
    main()
