"""nameclf: character-level RNN, LSTM and GRU classifiers of names, and how batching works."""

from nameclf.batches import Encoded, encode_names
from nameclf.checkpoint import load, save
from nameclf.data import DEFAULT_SOURCE, LoadReport, NameDataset, load_bytes, load_dataset
from nameclf.device import pick_device
from nameclf.encoding import encode_batch, explain, one_hot, pack, pack_sorted, sort_by_length
from nameclf.errors import CheckpointError, ConfigError, DataError, NameclfError
from nameclf.evaluate import Metrics, Prediction, evaluate, metrics_from, most_confused
from nameclf.model import ModelConfig, NameClassifier
from nameclf.ngram import NgramConfig, NgramModel
from nameclf.pipeline import Prepared, Run, fit, predict, prepare
from nameclf.prefix import prefix_predictions
from nameclf.presets import PRESETS, preset
from nameclf.splits import Split, leaked_rows, make_split
from nameclf.train import Progress, TrainConfig, TrainResult, train
from nameclf.vocab import Vocab, normalize

__all__ = [
    "CheckpointError", "ConfigError", "DEFAULT_SOURCE", "DataError", "Encoded", "LoadReport",
    "Metrics", "ModelConfig", "NameClassifier", "NameDataset", "NameclfError", "NgramConfig",
    "NgramModel", "PRESETS", "Prediction", "Prepared", "Progress", "Run", "Split", "TrainConfig",
    "TrainResult", "Vocab", "encode_batch", "encode_names", "evaluate", "explain", "fit",
    "leaked_rows", "load", "load_bytes", "load_dataset", "make_split", "metrics_from",
    "most_confused", "normalize", "one_hot", "pack", "pack_sorted", "pick_device", "predict",
    "prefix_predictions", "prepare", "preset", "save", "sort_by_length", "train",
]
