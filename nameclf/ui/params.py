"""The Train page's settings: widget bounds, presets, and a safe round trip through the URL.

Pure functions (no Streamlit): a URL is attacker-controlled, so every value is parsed,
clamped or snapped to what the widgets offer, and each correction is reported as a note.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass

from nameclf.classify.config import (
    BATCHING_MODES,
    KINDS,
    OPTIMIZERS,
    ModelConfig,
    TrainConfig,
    total_steps,
)
from nameclf.classify.presets import DEFAULT_PRESET, PRESETS, override, preset
from nameclf.data.dataset import BUILTINS, DEFAULT_SOURCE
from nameclf.data.splits import SPLITS

LRS = (1e-4, 2e-4, 3e-4, 5e-4, 1e-3, 2e-3, 3e-3, 5e-3, 0.01, 0.02, 0.03, 0.05, 0.1, 0.15, 0.2,
       0.3, 0.5, 1.0)  # the learning-rate slider, log-spaced
HIDDEN = (8, 16, 32, 64, 128, 256, 512)
EMBEDDING = (0, 8, 16, 32, 64, 128)  # 0 = one-hot input
BATCH = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
DATASETS = (*BUILTINS, "upload")
MAX_URL_VALUE = 64  # longer query values are ignored outright


@dataclass(frozen=True)
class Param:
    """One setting of the Train page: its URL key, kind and bounds."""

    key: str  # URL key and widget key suffix
    kind: str  # choice | option (ordered numbers) | int | float | bool
    choices: tuple = ()  # for choice and option
    lo: float = 0  # for int and float
    hi: float = 0


PARAMS = (
    Param("dataset", "choice", DATASETS),
    Param("preset", "choice", tuple(PRESETS)),
    Param("cell", "choice", KINDS),  # rnn | lstm | gru | ngram (the classical baseline)
    Param("hidden", "option", HIDDEN),
    Param("layers", "int", lo=1, hi=3),
    Param("bidir", "bool"),
    Param("emb", "option", EMBEDDING),
    Param("dropout", "float", lo=0.0, hi=0.5),
    Param("mix", "float", lo=0.0, hi=0.9),  # ngram_weight: the n-gram model mixed in
    Param("lexicon", "bool"),  # the n-gram model reads word frequencies too
    Param("opt", "choice", OPTIMIZERS),
    Param("lr", "option", LRS),
    Param("momentum", "float", lo=0.0, hi=0.99),
    Param("batch", "option", BATCH),
    Param("budget", "choice", ("epochs", "steps")),
    Param("steps", "int", lo=1, hi=20_000),
    Param("epochs", "float", lo=0.1, hi=50.0),
    Param("time", "int", lo=0, hi=3600),  # seconds; 0 = no limit
    Param("split", "choice", SPLITS),
    Param("seed", "int", lo=0, hi=9999),
    Param("device", "choice", ("cpu", "cuda", "mps")),
    Param("batching", "choice", BATCHING_MODES),
)
BY_KEY = {p.key: p for p in PARAMS}


def from_preset(name: str, base: Mapping | None = None) -> dict:
    """Settings of a preset; dataset, seed, device and time limit are kept from `base`."""
    model, train, split = preset(name)
    values = dict(base or {})
    values.update(
        preset=name, cell=model.cell, hidden=model.hidden_size, layers=model.num_layers,
        bidir=model.bidirectional, emb=model.embedding_dim, dropout=model.dropout,
        mix=model.ngram_weight, lexicon=model.lexicon, opt=train.optimizer, lr=train.lr,
        momentum=train.momentum, batch=train.batch_size,
        budget="steps" if train.steps else "epochs", steps=train.steps or 1000,
        epochs=train.epochs, split=split, batching=train.batching,
    )
    for key, value in dict(dataset=DEFAULT_SOURCE, seed=0, device="cpu", time=0).items():
        values.setdefault(key, value)
    return coerce(values)


KEPT = ("dataset", "seed", "device", "time", "preset")  # not a preset's: kept when one is chosen


def differs_from_preset(values: Mapping) -> bool:
    """Whether a setting the preset defines was changed (one that applies: steps only when the
    budget is steps, epochs only when it is epochs, momentum only for SGD)."""
    if values.get("preset") not in PRESETS:
        return True
    chosen = from_preset(values["preset"], values)
    unused = {"epochs" if values.get("budget") == "steps" else "steps"}
    if values.get("opt") != "sgd":
        unused.add("momentum")
    return any(values.get(k) != v for k, v in chosen.items() if k not in (*KEPT, *unused))


def coerce(values: dict) -> dict:
    """Give every setting its widget's type (an int epoch count becomes a float, etc.)."""
    for p in PARAMS:
        if p.key not in values:
            continue
        if p.kind == "int":
            values[p.key] = int(values[p.key])
        elif p.kind == "float":
            values[p.key] = float(values[p.key])
        elif p.kind == "option":
            values[p.key] = type(p.choices[0])(values[p.key])
        elif p.kind == "bool":
            values[p.key] = bool(values[p.key])
    return values


def defaults() -> dict:
    """The settings a fresh visitor sees: the recommended preset."""
    return from_preset(DEFAULT_PRESET)


def _snap(p: Param, number: float) -> float:
    """Nearest allowed value of an option list (in log space for learning rates)."""
    if p.key == "lr":
        return min(p.choices, key=lambda c: abs(math.log(c) - math.log(max(number, 1e-12))))
    number = min(max(number, min(p.choices)), max(p.choices))
    return min(p.choices, key=lambda c: (abs(c - number), c))


def parse_value(p: Param, raw: str):
    """One URL value made safe for its widget; raises ValueError if it is unusable."""
    raw = raw.strip()
    if len(raw) > MAX_URL_VALUE:
        raise ValueError("too long")
    if p.kind == "choice":
        if raw not in p.choices:
            raise ValueError(f"not one of {', '.join(p.choices)}")
        return raw
    if p.kind == "bool":
        if raw.lower() not in ("1", "0", "true", "false", "yes", "no"):
            raise ValueError("not true or false")
        return raw.lower() in ("1", "true", "yes")
    number = float(raw)
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    if p.kind == "option":
        return _snap(p, number)
    number = min(max(number, p.lo), p.hi)
    return int(round(number)) if p.kind == "int" else round(number, 4)


def parse(query: Mapping[str, str], devices: tuple[str, ...] = ("cpu",)) -> tuple[dict, list[str]]:
    """Settings from URL query values: a preset first, then each known key; plus notes."""
    notes: list[str] = []
    values = defaults()
    name = query.get("preset")
    if name is not None:
        if name in PRESETS:
            values = from_preset(name, values)
        else:
            notes.append(f"preset {name[:MAX_URL_VALUE]!r} is unknown; using {DEFAULT_PRESET}")
    for key, raw in query.items():
        p = BY_KEY.get(key)
        if p is None or key == "preset":
            continue
        try:
            value = parse_value(p, str(raw))
        except ValueError as err:
            notes.append(f"{key}={str(raw)[:MAX_URL_VALUE]!r} ignored ({err}); kept {values[key]}")
            continue
        if p.kind in ("int", "float", "option") and not math.isclose(value, float(raw)):
            notes.append(f"{key}={str(raw)[:MAX_URL_VALUE]} adjusted to {value}")
        values[key] = value
    if values["device"] not in devices:
        notes.append(f"device {values['device']} is not available here; using {devices[0]}")
        values["device"] = devices[0]
    return coerce(values), notes


def to_query(values: Mapping) -> dict[str, str]:
    """URL query values for settings; only what differs from the preset is kept short."""
    out = {}
    for p in PARAMS:
        value = values.get(p.key)
        if value is None:
            continue
        out[p.key] = ("1" if value else "0") if p.kind == "bool" else f"{value:g}" if isinstance(
            value, float) else str(value)
    return out


def configs(values: Mapping, n_train: int | None = None) -> tuple[ModelConfig, TrainConfig, str]:
    """Model config, training config and split kind for settings; the preset fills the rest."""
    model, train, _ = preset(values.get("preset", DEFAULT_PRESET))
    model = override(model, dict(
        cell=values["cell"], hidden_size=int(values["hidden"]), num_layers=int(values["layers"]),
        bidirectional=bool(values["bidir"]), embedding_dim=int(values["emb"]),
        dropout=float(values["dropout"]),
        ngram_weight=0.0 if is_ngram(values) else float(values.get("mix", 0.0))))
    model.lexicon = bool(values.get("lexicon")) and model.reads_ngrams
    by_steps = values["budget"] == "steps"
    train = override(train, dict(
        optimizer=values["opt"], lr=float(values["lr"]), momentum=float(values["momentum"]),
        batch_size=int(values["batch"]), steps=int(values["steps"]) if by_steps else 0,
        epochs=float(values["epochs"]), time_budget=float(values["time"]),
        seed=int(values["seed"]), batching=values["batching"]))
    if n_train:  # about 15 evaluations per run, never more often than every 10 steps
        n_steps = total_steps(n_train, train.batch_size, train.steps, train.epochs,
                              train.max_names)
        train.eval_every = max(10, min(train.eval_every, n_steps // 15))
    return model, train, values["split"]


def is_ngram(values: Mapping) -> bool:
    """Whether the settings choose the n-gram baseline (no recurrent or optimizer settings)."""
    return values.get("cell") == "ngram"


def problem(values: Mapping) -> str:
    """Why these settings cannot train, or ''."""
    if values["batching"] == "padded" and values["bidir"] and not is_ngram(values):
        return ("Padded batching reads each name's state at its last character, which is only "
                "exact left to right: with a bidirectional model use packed or per-sample.")
    return ""
