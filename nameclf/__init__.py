"""nameclf: character-level RNN, LSTM and GRU classifiers of names, and how batching works.

Every public name is importable from here (`from nameclf import fit`), but lazily (PEP 562):
`import nameclf` loads no submodule, and a name loads only the submodule that defines it, so
code that needs only the data side (the app's Home page) does not pay for importing torch.
"""

import importlib
import sys
import types
from typing import TYPE_CHECKING

# public name -> the submodule that defines it
_WHERE = {
    "Encoded": "batches", "encode_names": "batches",
    "load": "checkpoint", "save": "checkpoint",
    "DEFAULT_SOURCE": "data", "LoadReport": "data", "NameDataset": "data",
    "load_bytes": "data", "load_dataset": "data",
    "pick_device": "device",
    "encode_batch": "encoding", "explain": "encoding", "one_hot": "encoding", "pack": "encoding",
    "pack_sorted": "encoding", "sort_by_length": "encoding",
    "CheckpointError": "errors", "ConfigError": "errors", "DataError": "errors",
    "NameclfError": "errors",
    "Metrics": "evaluate", "Prediction": "evaluate", "evaluate": "evaluate",
    "metrics_from": "evaluate", "most_confused": "evaluate",
    "Mixture": "mixture", "ModelConfig": "config", "NameClassifier": "model",
    "NgramConfig": "ngram", "NgramModel": "ngram",
    "Prepared": "pipeline", "Run": "pipeline", "fit": "pipeline", "predict": "pipeline",
    "prepare": "pipeline",
    "prefix_predictions": "prefix",
    "PRESETS": "presets", "preset": "presets",
    "Split": "splits", "leaked_rows": "splits", "make_split": "splits",
    "Progress": "train", "TrainConfig": "config", "TrainResult": "train", "train": "train",
    "Vocab": "vocab", "normalize": "vocab",
    "NameGenerator": "generator", "GeneratorConfig": "generator_config",
    "GenTrainConfig": "generator_config", "GenRun": "generator_train",
    "bits_per_char": "generator_train", "fit_generator": "generator_train",
    "train_generator": "generator_train", "GenPrepared": "lm_batches", "encode_lm": "lm_batches",
    "prepare_lm": "lm_batches", "NgramLM": "lm_ngram", "fit_ngram_lm": "lm_ngram",
    "SampleConfig": "sampling", "novelty": "sampling", "sample_names": "sampling",
    "explain_targets": "lm_explain",
}

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


class _Package(types.ModuleType):
    """`nameclf.train` and `nameclf.evaluate` are the functions, as when imported eagerly.

    They share their names with their submodules, and importing a submodule binds it on the
    package (`setattr(nameclf, "train", <module nameclf.train>)`); this keeps the function.
    """

    def __setattr__(self, name: str, value) -> None:
        if (name in __all__ and isinstance(value, types.ModuleType)
                and value.__name__ == f"{__name__}.{name}"):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


if TYPE_CHECKING:  # for type checkers and IDEs: the same names, eagerly
    from nameclf.batches import Encoded, encode_names
    from nameclf.checkpoint import load, save
    from nameclf.config import ModelConfig, TrainConfig
    from nameclf.data import DEFAULT_SOURCE, LoadReport, NameDataset, load_bytes, load_dataset
    from nameclf.device import pick_device
    from nameclf.encoding import encode_batch, explain, one_hot, pack, pack_sorted, sort_by_length
    from nameclf.errors import CheckpointError, ConfigError, DataError, NameclfError
    from nameclf.evaluate import Metrics, Prediction, evaluate, metrics_from, most_confused
    from nameclf.generator import NameGenerator
    from nameclf.generator_config import GeneratorConfig, GenTrainConfig
    from nameclf.generator_train import GenRun, bits_per_char, fit_generator, train_generator
    from nameclf.lm_batches import GenPrepared, encode_lm, prepare_lm
    from nameclf.lm_explain import explain_targets
    from nameclf.lm_ngram import NgramLM, fit_ngram_lm
    from nameclf.mixture import Mixture
    from nameclf.model import NameClassifier
    from nameclf.ngram import NgramConfig, NgramModel
    from nameclf.pipeline import Prepared, Run, fit, predict, prepare
    from nameclf.prefix import prefix_predictions
    from nameclf.presets import PRESETS, preset
    from nameclf.sampling import SampleConfig, novelty, sample_names
    from nameclf.splits import Split, leaked_rows, make_split
    from nameclf.train import Progress, TrainResult, train
    from nameclf.vocab import Vocab, normalize
