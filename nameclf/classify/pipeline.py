"""From a dataset to a trained, evaluated run — the API the CLI and the app share."""

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import torch

from nameclf.batching.batches import Encoded, encode_names
from nameclf.classify.config import ModelConfig, TrainConfig
from nameclf.classify.evaluate import Metrics, Prediction, evaluate, metrics_from, name_top1
from nameclf.classify.mixture import fit_mixture, scored
from nameclf.classify.model import NameClassifier
from nameclf.classify.ngram import fit_baseline
from nameclf.classify.train import Progress, TrainResult, fit_recurrent
from nameclf.data import dataset as data
from nameclf.data.dataset import NameDataset
from nameclf.data.splits import Split, leaked_pairs, leaked_rows, make_split, top1_ceiling
from nameclf.data.vocab import Vocab, normalize
from nameclf.errors import ConfigError

MAX_NAME_LEN = 64  # typed names are cut here before prediction


def encode_rows(ds: NameDataset, rows: list[int], vocab: Vocab, classes: list[str],
                device) -> Encoded:
    """Encode some rows of a dataset with a given vocabulary and label order."""
    label_id = {c: i for i, c in enumerate(classes)}
    return encode_names([ds.names[i] for i in rows], [label_id[ds.labels[i]] for i in rows],
                        vocab, device)


@dataclass
class Prepared:
    """A split dataset, its vocabulary, and the encoded splits on a device."""

    vocab: Vocab
    classes: list[str]
    split: Split
    train: Encoded
    test: Encoded
    valid: Encoded | None
    leaked: int  # test rows whose name is also in training
    leaked_pairs: int = 0  # test rows that repeat a training row exactly
    ceiling: float = 1.0  # the best top-1 any model can reach on the test split (one answer
    # per name: a name the test split holds under two labels is wrong for one of them)
    test_names: list[str] = field(default_factory=list)  # the test rows' names, for top-1
    # per distinct name
    class_counts: dict[str, int] = field(default_factory=dict)  # training rows per label


def prepare(ds: NameDataset, split: str = "names", seed: int = 0, valid_frac: float = 0.0,
            device: torch.device | str = "cpu") -> Prepared:
    """Split, build the vocabulary from training names, and encode every split once."""
    sp = make_split(ds, split, seed=seed, valid_frac=valid_frac)
    classes = ds.classes
    vocab = Vocab.build([ds.names[i] for i in sp.train])

    def enc(rows: list[int]) -> Encoded:
        return encode_rows(ds, rows, vocab, classes, device)

    train_counts = Counter(ds.labels[i] for i in sp.train)
    return Prepared(vocab, classes, sp, enc(sp.train), enc(sp.test),
                    enc(sp.valid) if sp.valid else None, leaked_rows(ds, sp),
                    leaked_pairs(ds, sp), top1_ceiling(ds, sp.test),
                    [ds.names[i] for i in sp.test], {c: train_counts[c] for c in classes})


@dataclass
class Run:
    """A trained model with everything needed to use, evaluate and share it."""

    model: NameClassifier
    vocab: Vocab
    classes: list[str]
    train_config: TrainConfig
    info: dict = field(default_factory=dict)  # dataset, split, sizes, timings
    metrics: dict = field(default_factory=dict)  # final scalar metrics on the test split
    history: dict = field(default_factory=dict)  # curves, see train.History
    status: str = "completed"

    @property
    def model_config(self) -> ModelConfig:
        return self.model.config

    @property
    def learned_nothing(self) -> bool:
        """An n-gram fit ended early (Stop, a time budget): unlike a stopped recurrent model,
        which keeps what it learned so far, there is no model to keep."""
        return self.model.config.cell == "ngram" and self.status != "completed"


Trainer = Callable[..., tuple[torch.nn.Module, TrainResult, dict]]


def trainer_for(model_cfg: ModelConfig) -> Trainer:
    """The trainer of a model kind: the n-gram baseline, a recurrent net, or the two mixed.

    Each takes (train_set, vocab, model_cfg, train_cfg, eval_set, callback, stop) and returns
    the model, its TrainResult and notes for the run's info."""
    if model_cfg.cell == "ngram":
        return fit_baseline
    return fit_mixture if model_cfg.ngram_weight else fit_recurrent


def fit(prep: Prepared, model_cfg: ModelConfig, train_cfg: TrainConfig,
        callback: Callable[[Progress], None] | None = None,
        stop: threading.Event | None = None, info: dict | None = None) -> Run:
    """Build a model for the prepared data, train it, and evaluate it on the test split.

    The configs are checked where they are made (`validate`: the CLI, the page, `preset`);
    the sizes that come from the data are filled in here."""
    model_cfg = replace(model_cfg, vocab_size=len(prep.vocab), n_classes=len(prep.classes))
    torch.manual_seed(train_cfg.seed)
    eval_set = prep.valid if prep.valid is not None else prep.test
    model, result, notes = trainer_for(model_cfg)(prep.train, prep.vocab, model_cfg, train_cfg,
                                                  eval_set, callback, stop)
    return finish(model, prep, train_cfg, dict(info or {}, **notes), result.steps,
                  result.seconds, result.names_per_second, result.history.to_dict(),
                  result.status)


def finish(model: torch.nn.Module, prep: Prepared, train_cfg: TrainConfig, info: dict,
           steps: int, seconds: float, names_per_second: float, history: dict,
           status: str) -> Run:
    """A model scored on the prepared test split, as a Run with the split's facts beside it:
    a finished fit, or the copy a watcher keeps when they stop watching a shared run."""
    t0 = time.perf_counter()
    logp, parts_top1 = scored(model, prep.test)
    if parts_top1:  # a mixture
        info["parts_top1"] = parts_top1
    metrics = metrics_from(logp, prep.test.labels.cpu(), prep.classes)
    summary = metrics.summary()
    if prep.test_names:  # top-1 per row is the headline; per distinct name beside it
        summary["top1_names"] = name_top1(logp, prep.test.labels.cpu(), prep.test_names)
        summary["n_names"] = len(set(prep.test_names))
    info = dict(info, split=prep.split.kind, n_train=len(prep.train), n_test=len(prep.test),
                leaked_test_rows=prep.leaked, leaked_test_pairs=prep.leaked_pairs,
                top1_ceiling=prep.ceiling, steps=steps, train_seconds=seconds,
                names_per_second=names_per_second, eval_seconds=time.perf_counter() - t0,
                n_params=model.n_params(), class_counts=prep.class_counts)
    return Run(model, prep.vocab, prep.classes, train_cfg, info, summary, history, status)


def run_metrics(run: Run, prep: Prepared) -> Metrics:
    """Full metrics (per-class, confusion) of a run on a prepared test split."""
    return evaluate(run.model, prep.test, run.classes)


def check_compatible(run: Run, ds: NameDataset) -> None:
    """Refuse to evaluate a run on data whose labels it does not know."""
    unknown = sorted(set(ds.classes) - set(run.classes))
    if unknown:
        shown = ", ".join(unknown[:5])
        raise ConfigError(f"the data has labels this model never learned: {shown}")


def encode_for(run: Run, ds: NameDataset, rows: list[int], device) -> Encoded:
    """Encode rows of a dataset with a run's own vocabulary and label order."""
    return encode_rows(ds, rows, run.vocab, run.classes, device)


def clean_query(text: str, ascii_fold: bool) -> tuple[str, str]:
    """Normalize one typed name; returns (name, note about anything odd)."""
    name = normalize(text, ascii_fold)
    note = ""
    if len(name) > MAX_NAME_LEN:
        name, note = name[:MAX_NAME_LEN], f"cut to its first {MAX_NAME_LEN} characters"
    elif len(name) > data.MAX_NAME_LEN:
        note = (f"longer than any training name ({len(name)} characters; the loader keeps "
                f"names of at most {data.MAX_NAME_LEN}), so the answer is less sure")
    return name, note


def query_note(run: Run, name: str, note: str) -> tuple[str, bool]:
    """The note for one normalized typed name, and whether it has no known character (then
    the model's answer would be a blind guess)."""
    notes = [note]
    recased = run.vocab.recased_chars(name)
    if recased:
        shown = " ".join(f"{c!r} as {c.swapcase()!r}" for c in recased[:8])
        notes.append(f"read {shown}, the case of the training names")
    unknown = run.vocab.unknown_chars(name)
    if unknown:
        shown = " ".join(repr(c) for c in unknown[:8])
        notes.append(f"unseen characters {shown} read as <unk>")
    letters = [c for c in name if c.isalpha()] or list(name)
    blind = all(c in unknown for c in letters)
    return "; ".join(filter(None, notes)), blind


def prior(run: Run, k: int) -> list[tuple[str, float]]:
    """The k most frequent training labels with their shares; empty if the run lacks counts."""
    counts = run.info.get("class_counts") or {}
    total = sum(counts.get(c, 0) for c in run.classes)
    if not total:
        return []
    shares = sorted(((c, counts.get(c, 0) / total) for c in run.classes), key=lambda t: -t[1])
    return shares[:k]


@torch.no_grad()
def predict(run: Run, names: list[str] | str, k: int = 3) -> list[Prediction]:
    """Top-k labels with probabilities for each name; odd input gets a note, never an error.

    A name with no known character gets the training prior (how often each label is in the
    training names), never the model's answer, which would be a confident blind guess; a run
    saved without its label counts gives no answer for it."""
    if isinstance(names, str):
        names = [names]
    ascii_fold = run.info.get("ascii_fold", True)
    k = max(1, min(k, len(run.classes)))
    out, todo = [], []
    for text in names:
        name, note = clean_query(str(text), ascii_fold)
        pred = Prediction(str(text), name, note=note)
        if not name:
            pred.note = "empty name: nothing to predict"
        else:
            pred.note, blind = query_note(run, name, note)
            if blind:
                pred.top, pred.prior = prior(run, k), True
                pred.note += (" — no known characters, so no guess: "
                              + ("the training prior (each label's share of the training "
                                 "names)" if pred.top else "no answer"))
            else:
                todo.append(pred)
        out.append(pred)
    device = next(run.model.parameters()).device
    run.model.eval()
    for start in range(0, len(todo), 4096):
        chunk = todo[start : start + 4096]
        enc = encode_names([p.normalized for p in chunk], [0] * len(chunk), run.vocab, device)
        probs = run.model(enc.idx.T, enc.lengths).exp().cpu()  # (B, C)
        top = probs.topk(k, dim=1)
        for p, values, indices in zip(chunk, top.values.tolist(), top.indices.tolist()):
            p.top = [(run.classes[i], v) for i, v in zip(indices, values)]
    return out
