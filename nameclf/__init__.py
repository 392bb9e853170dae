"""nameclf: character-level RNN, LSTM and GRU classifiers of names, and how batching works.

Every public name is importable from here (`from nameclf import fit`), but lazily (PEP 562):
`import nameclf` loads no submodule, and a name loads only the submodule that defines it, so
code that needs only the data side (the app's Home page) does not pay for importing torch.
"""

import importlib
from typing import TYPE_CHECKING

# submodule -> the public names it defines
_FROM = {
    "errors": ("CheckpointError", "ConfigError", "DataError", "NameclfError"),
    "device": ("pick_device",),
    "data.dataset": ("DEFAULT_SOURCE", "LoadReport", "NameDataset", "load_bytes", "load_dataset"),
    "data.splits": ("Split", "leaked_rows", "make_split"),
    "data.vocab": ("Vocab", "normalize"),
    "batching.encoding": (
        "encode_batch", "explain", "one_hot", "pack", "pack_sorted", "sort_by_length"),
    "batching.batches": ("Encoded", "encode_names"),
    "classify.config": ("ModelConfig", "TrainConfig"),
    "classify.model": ("NameClassifier",),
    "classify.train": ("Progress", "TrainResult", "train"),
    "classify.evaluate": ("Metrics", "Prediction", "evaluate", "metrics_from", "most_confused"),
    "classify.pipeline": ("Prepared", "Run", "fit", "predict", "prepare"),
    "classify.presets": ("PRESETS", "preset"),
    "classify.checkpoint": ("load", "save"),
    "classify.ngram": ("NgramConfig", "NgramModel"),
    "classify.mixture": ("Mixture",),
    "classify.prefix": ("prefix_predictions",),
    "generate.config": ("GeneratorConfig", "GenTrainConfig"),
    "generate.model": ("NameGenerator",),
    "generate.batches": ("GenPrepared", "encode_lm", "prepare_lm"),
    "generate.train": ("GenRun", "bits_per_char", "fit_generator", "train_generator"),
    "generate.ngram": ("NgramLM", "fit_ngram_lm"),
    "generate.sampling": ("SampleConfig", "novelty", "sample_names"),
    "lab.targets": ("explain_targets",),
}
_WHERE = {name: module for module, names in _FROM.items() for name in names}

__all__ = [
    "CheckpointError", "ConfigError", "DEFAULT_SOURCE", "DataError", "Encoded", "LoadReport",
    "Metrics", "Mixture", "ModelConfig", "NameClassifier", "NameDataset", "NameclfError",
    "NgramConfig", "NgramModel", "PRESETS", "Prediction", "Prepared", "Progress", "Run", "Split",
    "TrainConfig", "TrainResult", "Vocab", "encode_batch", "encode_names", "evaluate", "explain",
    "fit", "leaked_rows", "load", "load_bytes", "load_dataset", "make_split", "metrics_from",
    "most_confused", "normalize", "one_hot", "pack", "pack_sorted", "pick_device", "predict",
    "prefix_predictions", "prepare", "preset", "save", "sort_by_length", "train",
    "GenPrepared", "GenRun", "GenTrainConfig", "GeneratorConfig", "NameGenerator", "NgramLM",
    "SampleConfig", "bits_per_char", "encode_lm", "explain_targets", "fit_generator",
    "fit_ngram_lm", "novelty", "prepare_lm", "sample_names", "train_generator",
]


def __getattr__(name: str):
    """Import the submodule that defines `name` on first use, and keep the value here."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'nameclf' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"nameclf.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


if TYPE_CHECKING:  # for type checkers and IDEs: the same names, eagerly
    from nameclf.batching.batches import Encoded, encode_names
    from nameclf.batching.encoding import (
        encode_batch,
        explain,
        one_hot,
        pack,
        pack_sorted,
        sort_by_length,
    )
    from nameclf.classify.checkpoint import load, save
    from nameclf.classify.config import ModelConfig, TrainConfig
    from nameclf.classify.evaluate import Metrics, Prediction, evaluate, metrics_from, most_confused
    from nameclf.classify.mixture import Mixture
    from nameclf.classify.model import NameClassifier
    from nameclf.classify.ngram import NgramConfig, NgramModel
    from nameclf.classify.pipeline import Prepared, Run, fit, predict, prepare
    from nameclf.classify.prefix import prefix_predictions
    from nameclf.classify.presets import PRESETS, preset
    from nameclf.classify.train import Progress, TrainResult, train
    from nameclf.data.dataset import (
        DEFAULT_SOURCE,
        LoadReport,
        NameDataset,
        load_bytes,
        load_dataset,
    )
    from nameclf.data.splits import Split, leaked_rows, make_split
    from nameclf.data.vocab import Vocab, normalize
    from nameclf.device import pick_device
    from nameclf.errors import CheckpointError, ConfigError, DataError, NameclfError
    from nameclf.generate.batches import GenPrepared, encode_lm, prepare_lm
    from nameclf.generate.config import GeneratorConfig, GenTrainConfig
    from nameclf.generate.model import NameGenerator
    from nameclf.generate.ngram import NgramLM, fit_ngram_lm
    from nameclf.generate.sampling import SampleConfig, novelty, sample_names
    from nameclf.generate.train import GenRun, bits_per_char, fit_generator, train_generator
    from nameclf.lab.targets import explain_targets
