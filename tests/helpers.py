"""Shared test data: small synthetic datasets a model can learn in about a second."""

import io
import json
import random
import sys
import zipfile
from pathlib import Path

import torch

from nameclf.batching.batches import Encoded, encode_names
from nameclf.classify.config import ModelConfig, TrainConfig
from nameclf.classify.model import NameClassifier
from nameclf.classify.pipeline import Run
from nameclf.data.dataset import LoadReport, NameDataset
from nameclf.data.vocab import Vocab

# each label writes its names with its own letters, so one character gives the label away
ALPHABETS = {"Kaz": "kqxz", "Lom": "lmno", "Rus": "rstu", "Vey": "vwye"}


def synthetic_rows(per_label: int = 40, seed: int = 0) -> list[tuple[str, str]]:
    """Distinct (name, label) rows, `per_label` for each of four labels."""
    rng = random.Random(seed)
    rows = []
    for label, letters in ALPHABETS.items():
        names: set[str] = set()
        while len(names) < per_label:
            length = rng.randint(3, 8)
            names.add("".join(rng.choice(letters) for _ in range(length)).capitalize())
        rows += [(name, label) for name in sorted(names)]
    rng.shuffle(rows)
    return rows


def lines_text(rows: list[tuple[str, str]]) -> str:
    """The tutorial's `Name, Label` line format."""
    return "".join(f"{name}, {label}\n" for name, label in rows)


def synthetic_dataset(per_label: int = 40, seed: int = 0) -> NameDataset:
    """A NameDataset of `synthetic_rows`, built without going through a loader."""
    rows = synthetic_rows(per_label, seed)
    report = LoadReport(source="synthetic")
    return NameDataset([n for n, _ in rows], [lab for _, lab in rows], report)


def dataset(pairs: list[tuple[str, str]]) -> NameDataset:
    """A NameDataset of the given (name, label) pairs, as they are."""
    return NameDataset([n for n, _ in pairs], [lab for _, lab in pairs], LoadReport("test"))


def encoded(names: list[str], labels: list[int]) -> tuple[Encoded, Vocab]:
    """Names encoded with a vocabulary of their own characters."""
    vocab = Vocab.build(names)
    return encode_names(names, labels, vocab), vocab


def synthetic_encoded(per_label: int = 40, seed: int = 0) -> tuple[Encoded, Vocab, list[str]]:
    """The synthetic rows encoded, with label ids in sorted label order."""
    rows = synthetic_rows(per_label, seed)
    classes = sorted(ALPHABETS)
    enc, vocab = encoded([n for n, _ in rows], [classes.index(lab) for _, lab in rows])
    return enc, vocab, classes


def small_model(vocab_size: int, n_classes: int, seed: int = 0, **fields) -> NameClassifier:
    """A tiny GRU (unless `fields` say otherwise), seeded."""
    torch.manual_seed(seed)
    config = dict(cell="gru", hidden_size=8) | fields
    return NameClassifier(ModelConfig(vocab_size=vocab_size, n_classes=n_classes, **config))


def untrained_run(seed: int = 0, **fields) -> Run:
    """A Run around a freshly initialized model of the synthetic data's vocabulary."""
    _, vocab, classes = synthetic_encoded()
    model = small_model(len(vocab), len(classes), seed, **fields)
    model.eval()
    return Run(model, vocab, classes, TrainConfig(steps=1), info={"ascii_fold": True})


def names_zip(files: dict[str, str], prefix: str = "data/names/") -> bytes:
    """A zip holding `prefix<Label>.txt` files, as the tutorial's data.zip does."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for label, text in files.items():
            archive.writestr(f"{prefix}{label}.txt", text)
    return buf.getvalue()


def cli_ngram_run(tmp_path: Path) -> tuple[Path, Path]:
    """`python -m nameclf train --model ngram` on the synthetic rows: (data file, run folder)."""
    from nameclf.cli import main

    data = tmp_path / "names.txt"
    data.write_text(lines_text(synthetic_rows()), encoding="utf-8")
    out = tmp_path / "run"
    assert main(["train", "--data", str(data), "--model", "ngram", "--out", str(out),
                 "--quiet"]) == 0
    return data, out


def silent_children(monkeypatch, on_start=None) -> list:
    """Make nameclf.classify.logistic's fit children never answer (a fit too slow to wait for).

    Each child is a real process that sleeps; the list holds them for inspection.
    `on_start` is called once a child runs (e.g. to press Stop only then).
    """
    import subprocess

    from nameclf.classify import logistic

    started, real = [], subprocess.Popen

    def popen(cmd, **kwargs):
        child = real([sys.executable, "-c", "import time; time.sleep(600)"], **kwargs)
        started.append(child)
        if on_start is not None:
            on_start()
        return child

    monkeypatch.setattr(logistic.subprocess, "Popen", popen)
    return started


def rewritten(raw: bytes, change) -> bytes:
    """A checkpoint with its tensors and nameclf metadata passed through `change(state, meta)`."""
    from safetensors.torch import load as st_load
    from safetensors.torch import save as st_save

    header_len = int.from_bytes(raw[:8], "little")
    meta = json.loads(json.loads(raw[8 : 8 + header_len])["__metadata__"]["nameclf"])
    state = st_load(raw)
    change(state, meta)
    return st_save(state, metadata={"nameclf": json.dumps(meta)})


def assert_no_toolbar(at) -> None:
    """Every chart on the page hides plotly's toolbar (it covers legends on hover)."""
    import json

    charts = at.get("plotly_chart")
    assert charts, "no chart on the page"
    for chart in charts:
        assert json.loads(chart.proto.config or "{}").get("displayModeBar") is False
