"""Save and load runs as safetensors files: weights plus JSON metadata, never pickle."""

import json
from dataclasses import asdict, fields
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from nameclf.classify.config import ModelConfig, TrainConfig
from nameclf.classify.mixture import Mixture, ngram_part
from nameclf.classify.model import NameClassifier
from nameclf.classify.ngram import NgramConfig, NgramModel
from nameclf.classify.pipeline import Run
from nameclf.data.vocab import Vocab
from nameclf.errors import CheckpointError, NameclfError

FORMAT = "nameclf-checkpoint"
VERSION = 1
MAX_CHECKPOINT_BYTES = 64 * 2**20  # far above any model this app trains


def to_bytes(run: Run) -> bytes:
    """Serialize a run: tensors as safetensors, everything else as JSON metadata."""
    meta = {
        "format": FORMAT, "version": VERSION,
        "model_config": run.model.config.to_dict(),
        "train_config": asdict(run.train_config),
        "chars": list(run.vocab.chars), "classes": run.classes,
        "info": run.info, "metrics": run.metrics, "status": run.status,
    }
    ngram = run.model.ngram if isinstance(run.model, Mixture) else run.model
    if isinstance(ngram, NgramModel):  # its n-gram list and settings are JSON
        meta["ngram"] = ngram.metadata()
    state = {k: v.detach().cpu().contiguous() for k, v in run.model.state_dict().items()}
    return st_save(state, metadata={"nameclf": json.dumps(meta)})


def save(run: Run, path: str | Path) -> Path:
    """Write a run to `path` (conventionally `model.safetensors`)."""
    path = Path(path)
    path.write_bytes(to_bytes(run))
    return path


def config_from(cls, values: dict):
    """Build a dataclass config from JSON, refusing unknown or mistyped fields."""
    names = {f.name: f for f in fields(cls)}
    unknown = set(values) - set(names)
    if unknown:
        raise CheckpointError(f"unknown {cls.__name__} fields: {', '.join(sorted(unknown))}")
    config = cls(**values)
    for f in fields(cls):
        value, default = getattr(config, f.name), getattr(cls(), f.name)
        if not isinstance(value, type(default)) and not (isinstance(default, float)
                                                          and isinstance(value, int)):
            raise CheckpointError(f"{cls.__name__}.{f.name} has the wrong type")
    return config


def ngram_from(config: ModelConfig, vocab: Vocab, state: dict, meta: dict) -> NgramModel:
    """The n-gram model of a checkpoint: its tensors, n-gram list and settings."""
    extra = meta["ngram"]
    words = extra.get("lexicon")  # present when it was fitted with word frequencies
    languages = words.get("languages") if isinstance(words, dict) else None
    return NgramModel.from_state(config, vocab, state, extra["ngrams"],
                                 config_from(NgramConfig, extra["config"]), languages)


def build(config: ModelConfig, vocab: Vocab, state: dict, meta: dict) -> torch.nn.Module:
    """The model a checkpoint describes, its weights loaded; every tensor must be used."""
    if config.cell == "ngram":
        return ngram_from(config, vocab, state, meta)
    recurrent = NameClassifier(config)
    if not config.ngram_weight:
        recurrent.load_state_dict(state, strict=True)
        return recurrent
    parts = {"recurrent": {}, "ngram": {}}  # a mixture's tensors: "recurrent.*", "ngram.*"
    for key, tensor in state.items():
        part, _, name = key.partition(".")
        if part not in parts:
            raise CheckpointError(f"unexpected tensor {key[:80]!r} in a mixture checkpoint")
        parts[part][name] = tensor
    recurrent.load_state_dict(parts["recurrent"], strict=True)
    return Mixture(recurrent, ngram_from(ngram_part(config), vocab, parts["ngram"], meta))


def from_bytes(raw: bytes, device: torch.device | str = "cpu") -> Run:
    """Load a run from bytes; anything but a well-formed nameclf checkpoint is refused."""
    if len(raw) > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(f"the file is over {MAX_CHECKPOINT_BYTES // 2**20} MB: "
                              "not a checkpoint")
    try:
        state = st_load(raw)
        header_len = int.from_bytes(raw[:8], "little")
        meta_raw = json.loads(raw[8 : 8 + header_len]).get("__metadata__", {}).get("nameclf")
        meta = json.loads(meta_raw)
        if meta.get("format") != FORMAT:
            raise CheckpointError("this safetensors file was not written by nameclf")
        if meta.get("version") != VERSION:
            raise CheckpointError(f"checkpoint version {meta.get('version')} is not supported")
        model_cfg = config_from(ModelConfig, meta["model_config"])
        train_cfg = config_from(TrainConfig, meta["train_config"])
        vocab = Vocab(tuple(str(c) for c in meta["chars"]))
        classes = [str(c) for c in meta["classes"]]
        if len(vocab) != model_cfg.vocab_size or len(classes) != model_cfg.n_classes:
            raise CheckpointError("the vocabulary or labels do not match the model's size")
        if any(len(c) != 1 for c in vocab.chars) or len(set(vocab.chars)) != len(vocab.chars):
            raise CheckpointError("the vocabulary must list distinct single characters")
        info, metrics = dict(meta.get("info", {})), dict(meta.get("metrics", {}))
        model = build(model_cfg, vocab, state, meta)
    except CheckpointError:
        raise
    except (SafetensorError, ValueError, TypeError, KeyError, AttributeError, RuntimeError,
            NameclfError) as err:
        first = str(err).splitlines()[0][:200] if str(err) else type(err).__name__
        raise CheckpointError(f"not a valid nameclf checkpoint ({first})") from err
    model.eval()
    return Run(model.to(device), vocab, classes, train_cfg, info, metrics, {},
               str(meta.get("status", "completed")))


def load(path: str | Path, device: torch.device | str = "cpu") -> Run:
    """Load a run from a file written by `save`."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no such checkpoint file: {path}")
    if path.stat().st_size > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(f"{path} is over {MAX_CHECKPOINT_BYTES // 2**20} MB: "
                              "not a checkpoint")
    return from_bytes(path.read_bytes(), device)
