"""Save and load generator runs as safetensors: weights plus JSON metadata, never pickle.

A SHA-256 digest of the tensors and metadata is stored beside them, so an edited file (a
weight changed, a label renamed) is refused rather than loaded: an integrity check against
accidents and naive edits, not a signature. A classifier checkpoint is refused too.
"""

import hashlib
import json
from collections import Counter
from dataclasses import asdict, fields
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from nameclf.data.vocab import Vocab
from nameclf.errors import CheckpointError, NameclfError
from nameclf.generate.config import GeneratorConfig, GenTrainConfig
from nameclf.generate.model import NameGenerator
from nameclf.generate.ngram import BOS, EOS, UNK, NgramLM
from nameclf.generate.train import GenRun

FORMAT = "nameclf-generator"
VERSION = 1
MAX_BYTES = 64 * 2**20
HASHES = "train_hashes"  # the tensor of training-name fingerprints (for novelty)
NGRAM = ("ngram.grams", "ngram.counts", "ngram.label")  # the mixed-in n-gram LM's counts
SPECIAL = (BOS, EOS, UNK)  # n-gram token ids 0, 1, 2; the known characters follow


def ngram_tensors(lm: NgramLM) -> tuple[dict, dict[str, torch.Tensor]]:
    """The n-gram LM as metadata and three tensors: each label's highest-order grams (token
    ids), their counts and the label's index; everything else is rebuilt from them."""
    known = sorted(lm.known)
    ids = {t: i for i, t in enumerate([*SPECIAL, *known])}
    labels = [k for k in lm.models if k is not None]
    grams, counts, which = [], [], []
    for j, label in enumerate(labels):
        for gram, count in lm.models[label].top.items():
            grams.append([ids[t] for t in gram])
            counts.append(count)
            which.append(j)
    shape = (len(grams), lm.order)
    tensors = [torch.tensor(grams, dtype=torch.int32).view(shape),
               torch.tensor(counts, dtype=torch.int64), torch.tensor(which, dtype=torch.int32)]
    meta = {"order": lm.order, "weight": lm.weight, "known": known, "labels": labels}
    return meta, dict(zip(NGRAM, tensors))


def ngram_from(meta: dict, state: dict[str, torch.Tensor]) -> NgramLM:
    """The n-gram LM back from `ngram_tensors`' output, every value checked."""
    order, weight = int(meta["order"]), float(meta["weight"])
    known = [str(c) for c in meta["known"]]
    labels = [str(c) for c in meta["labels"]]
    grams, counts, which = (state.pop(k, None) for k in NGRAM)
    types = [*SPECIAL, *known]
    ok = (1 <= order <= 9 and 0.0 <= weight <= 1.0 and grams is not None
          and counts is not None and which is not None
          and all(len(c) == 1 for c in known) and len(set(known)) == len(known)
          and grams.dtype == torch.int32 and grams.dim() == 2 and grams.size(1) == order
          and counts.dtype == torch.int64 and which.dtype == torch.int32
          and counts.shape == which.shape == grams.shape[:1]
          and (grams.numel() == 0 or int(grams.min()) >= 0 and int(grams.max()) < len(types))
          and (counts.numel() == 0 or int(counts.min()) >= 1)
          and (which.numel() == 0 or int(which.min()) >= 0 and int(which.max()) < len(labels)))
    if not ok:
        raise CheckpointError("the n-gram LM in the file is malformed")
    by_label = {label: Counter() for label in labels}
    for gram, count, j in zip(grams.tolist(), counts.tolist(), which.tolist()):
        by_label[labels[j]][tuple(types[i] for i in gram)] = count
    return NgramLM.from_counts(order, weight, set(known), by_label)


def digest(state: dict[str, torch.Tensor], meta_json: str) -> str:
    """SHA-256 over every tensor's name, dtype, shape and bytes, then the metadata."""
    h = hashlib.sha256()
    for key in sorted(state):
        t = state[key].contiguous()
        h.update(f"{key}|{t.dtype}|{tuple(t.shape)}|".encode())
        h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    h.update(meta_json.encode())
    return h.hexdigest()


def to_bytes(run: GenRun) -> bytes:
    """Serialize a generator run (with its n-gram LM's counts when it mixes one in)."""
    state = {f"model.{k}": v.detach().cpu().contiguous() for k, v in run.model.state_dict().items()}
    if run.train_hashes is not None:
        state[HASHES] = run.train_hashes.cpu().contiguous()
    ngram = None
    if run.ngram is not None:
        ngram, tensors = ngram_tensors(run.ngram)
        state.update(tensors)
    meta = json.dumps({
        "format": FORMAT, "version": VERSION,
        "model_config": run.model.config.to_dict(), "train_config": asdict(run.train_config),
        "chars": list(run.vocab.chars), "classes": run.classes, "info": run.info,
        "metrics": run.metrics, "history": run.history, "status": run.status, "ngram": ngram,
    })
    return st_save(state, metadata={"nameclf": meta, "sha256": digest(state, meta)})


def save(run: GenRun, path: str | Path) -> Path:
    path = Path(path)
    path.write_bytes(to_bytes(run))
    return path


def config_from(cls, values: dict):
    """A dataclass config from JSON, refusing unknown or mistyped fields."""
    known = {f.name for f in fields(cls)}
    unknown = set(values) - known
    if unknown:
        raise CheckpointError(f"unknown {cls.__name__} fields: {', '.join(sorted(unknown))}")
    config, default = cls(**values), cls()
    for f in fields(cls):
        value, want = getattr(config, f.name), getattr(default, f.name)
        if not isinstance(value, type(want)) and not (isinstance(want, float)
                                                       and isinstance(value, int)):
            raise CheckpointError(f"{cls.__name__}.{f.name} has the wrong type")
    return config


def header(raw: bytes) -> dict:
    """The safetensors header's metadata block."""
    size = int.from_bytes(raw[:8], "little")
    if not 0 < size <= len(raw) - 8:
        raise CheckpointError("not a safetensors file")
    return json.loads(raw[8 : 8 + size]).get("__metadata__") or {}


def from_bytes(raw: bytes, device: torch.device | str = "cpu") -> GenRun:
    """Load a generator run; anything but an intact nameclf generator file is refused."""
    if len(raw) > MAX_BYTES:
        raise CheckpointError(f"the file is over {MAX_BYTES // 2**20} MB: not a checkpoint")
    try:
        block = header(raw)
        meta_json = block.get("nameclf")
        if meta_json is None:
            raise CheckpointError("this safetensors file was not written by nameclf")
        meta = json.loads(meta_json)
        if meta.get("format") == "nameclf-checkpoint":
            raise CheckpointError("this is a classifier checkpoint, not a generator")
        if meta.get("format") != FORMAT:
            raise CheckpointError("this safetensors file was not written by nameclf")
        if meta.get("version") != VERSION:
            raise CheckpointError(f"generator checkpoint version {meta.get('version')} "
                                  "is not supported")
        state = st_load(raw)
        if block.get("sha256") != digest(state, meta_json):
            raise CheckpointError("the file's contents do not match its digest: it was "
                                  "changed after it was saved")
        model_cfg = config_from(GeneratorConfig, meta["model_config"])
        train_cfg = config_from(GenTrainConfig, meta["train_config"])
        vocab = Vocab(tuple(str(c) for c in meta["chars"]))
        classes = [str(c) for c in meta["classes"]]
        if len(vocab) != model_cfg.vocab_size or len(classes) != model_cfg.n_labels:
            raise CheckpointError("the vocabulary or labels do not match the model's size")
        if any(len(c) != 1 for c in vocab.chars) or len(set(vocab.chars)) != len(vocab.chars):
            raise CheckpointError("the vocabulary must list distinct single characters")
        hashes = state.pop(HASHES, None)
        if hashes is not None and (hashes.dtype != torch.long or hashes.dim() != 1):
            raise CheckpointError("the training-name fingerprints are malformed")
        ngram = ngram_from(meta["ngram"], state) if meta.get("ngram") is not None else None
        if any(not k.startswith("model.") for k in state):
            raise CheckpointError("the file holds tensors no generator has")
        model = NameGenerator(model_cfg)
        model.load_state_dict({k[len("model."):]: v for k, v in state.items()}, strict=True)
    except CheckpointError:
        raise
    except (SafetensorError, ValueError, TypeError, KeyError, AttributeError, RuntimeError,
            NameclfError) as err:
        first = str(err).splitlines()[0][:200] if str(err) else type(err).__name__
        raise CheckpointError(f"not a valid nameclf generator checkpoint ({first})") from err
    model.eval()
    return GenRun(model.to(device), vocab, classes, train_cfg, dict(meta.get("info", {})),
                  dict(meta.get("metrics", {})), dict(meta.get("history", {})),
                  str(meta.get("status", "completed")), hashes, ngram)


def load(path: str | Path, device: torch.device | str = "cpu") -> GenRun:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no such checkpoint file: {path}")
    if path.stat().st_size > MAX_BYTES:
        raise CheckpointError(f"{path} is over {MAX_BYTES // 2**20} MB: not a checkpoint")
    return from_bytes(path.read_bytes(), device)
