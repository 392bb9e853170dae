"""What a model is and how a run trains it: plain dataclasses, importable without torch.

The Train page draws its form from these before torch is loaded; nameclf.classify.model and
nameclf.classify.train build and train what they describe.
"""

import math
from dataclasses import asdict, dataclass

from nameclf.batching import SAMPLING
from nameclf.errors import ConfigError

RECURRENT = ("rnn", "lstm", "gru")  # nameclf.classify.model's cells: nn.RNN, nn.LSTM, nn.GRU
KINDS = (*RECURRENT, "ngram")  # ngram: the classical baseline of nameclf.classify.ngram
BATCHING = ("packed", "padded", "naive")  # naive: read the state after the padding (wrong)
KERNELS = ("auto", "torch")  # auto: our recurrence.py where it applies; torch: nn.RNN


@dataclass
class ModelConfig:
    """Architecture of a NameClassifier."""

    cell: str = "lstm"  # rnn | lstm | gru | ngram (baseline: only the sizes apply)
    vocab_size: int = 0  # filled from the training data (includes <pad> and <unk>)
    n_classes: int = 0  # filled from the training data
    embedding_dim: int = 0  # 0: one-hot input like the tutorial; >0: a learned embedding
    hidden_size: int = 128  # units per direction
    num_layers: int = 1  # stacked recurrent layers
    bidirectional: bool = False  # also read each name right to left
    dropout: float = 0.0  # between layers and before the output layer
    ngram_weight: float = 0.0  # mix in the n-gram baseline's probabilities (mixture.py)
    lexicon: bool = False  # the n-gram model also reads word frequencies (nameclf.data.lexicon)

    @property
    def kind(self) -> str:
        """What the model is, in one word: `lstm`, `ngram`, or `lstm+ngram` for a mixture."""
        return f"{self.cell}+ngram" if self.ngram_weight else self.cell

    @property
    def reads_ngrams(self) -> bool:
        """Whether an n-gram model is part of this model: alone, or mixed in."""
        return self.cell == "ngram" or bool(self.ngram_weight)

    def validate(self) -> None:
        """Raise ConfigError for values no model can be built from."""
        if self.cell not in KINDS:
            raise ConfigError(f"unknown cell {self.cell!r}; choose one of {', '.join(KINDS)}")
        checks = [
            (3 <= self.vocab_size <= 100_000, "vocab_size must be 3 to 100,000"),
            # the one-hot table is vocab_size² floats; a foreign checkpoint must not make it huge
            (self.embedding_dim or self.vocab_size <= 5000,
             "one-hot input takes at most 5,000 characters; use an embedding"),
            (self.n_classes >= 2, "n_classes must be at least 2"),
            (0 <= self.embedding_dim <= 1024, "embedding_dim must be 0 (one-hot) to 1024"),
            (1 <= self.hidden_size <= 2048, "hidden_size must be 1 to 2048"),
            (1 <= self.num_layers <= 8, "num_layers must be 1 to 8"),
            (0.0 <= self.dropout < 1.0, "dropout must be in [0, 1)"),
            (0.0 <= self.ngram_weight < 1.0, "ngram_weight must be in [0, 1)"),
            (self.cell != "ngram" or not self.ngram_weight,
             "the n-gram baseline cannot mix in itself: ngram_weight must be 0"),
            (self.reads_ngrams or not self.lexicon,
             "word frequencies feed the n-gram model: choose it, or mix it in"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)

    def to_dict(self) -> dict:
        return asdict(self)


OPTIMIZERS = ("sgd", "adam", "adamw")
SCHEDULES = ("constant", "cosine", "linear")
BATCHING_MODES = ("packed", "padded", "per-sample")


@dataclass
class TrainConfig:
    """How to train: optimizer, batches, budget, evaluation. Checked when made (ConfigError)."""

    optimizer: str = "adamw"  # sgd | adam | adamw
    lr: float = 0.003  # peak learning rate
    momentum: float = 0.9  # SGD only
    weight_decay: float = 0.0
    batch_size: int = 128
    steps: int = 0  # number of batches; 0 means use `epochs`
    epochs: float = 5.0  # passes over the training names when steps == 0
    max_names: int = 0  # with epochs: at most this many names seen in all (0 = no cap), so a
    # preset's training time does not grow with the file (fast: 80,000, its ~15 s)
    sampling: str = "bucket"  # random (with replacement) | epoch | bucket (by length)
    batching: str = "packed"  # packed | padded | per-sample: same model, different speed
    kernel: str = "auto"  # packed batches: auto (recurrence.py on CPU) | torch (nn.RNN)
    schedule: str = "constant"  # constant | cosine | linear decay after warmup
    warmup: int = 0  # linear warmup steps
    clip_grad: float = 0.0  # max gradient norm; 0 = off
    class_weighting: bool = False  # weight classes by inverse frequency
    label_smoothing: float = 0.0
    eval_every: int = 100  # test accuracy every this many steps (0 = only at the end)
    time_budget: float = 0.0  # seconds; 0 = no limit
    seed: int = 0

    def __post_init__(self) -> None:
        # checked once, where the settings are made (a preset, the CLI's flags, the page's
        # widgets, dataclasses.replace): a TrainConfig that exists is one a run can use
        self.validate()

    def validate(self) -> None:
        """Raise ConfigError for settings no run can use."""
        checks = [
            (self.optimizer in OPTIMIZERS, f"optimizer must be one of {', '.join(OPTIMIZERS)}"),
            (self.schedule in SCHEDULES, f"schedule must be one of {', '.join(SCHEDULES)}"),
            (self.batching in BATCHING_MODES,
             f"batching must be one of {', '.join(BATCHING_MODES)}"),
            (self.sampling in SAMPLING, f"sampling must be one of {', '.join(SAMPLING)}"),
            (self.kernel in KERNELS, f"kernel must be one of {', '.join(KERNELS)}"),
            (math.isfinite(self.lr) and 0 < self.lr <= 100, "learning rate must be in (0, 100]"),
            (0 <= self.momentum < 1, "momentum must be in [0, 1)"),
            (1 <= self.batch_size <= 65536, "batch size must be 1 to 65536"),
            (0 <= self.steps <= 10_000_000, "steps must be 0 to 10,000,000"),
            (0 <= self.epochs <= 10_000, "epochs must be 0 to 10,000"),
            (0 <= self.max_names <= 10**9, "max_names must be 0 (no cap) to 10**9"),
            (self.steps > 0 or self.epochs > 0, "set steps or epochs to a positive number"),
            (0 <= self.label_smoothing < 1, "label smoothing must be in [0, 1)"),
            (self.clip_grad >= 0 and self.time_budget >= 0, "clip and time budget must be >= 0"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)


def total_steps(n: int, batch_size: int, steps: int, epochs: float, max_names: int = 0) -> int:
    """Steps to run: `steps` random batches, or enough batches for `epochs` passes (capped at
    `max_names` names in all when that is set)."""
    if steps > 0:
        return steps
    if epochs > 0:
        names = min(epochs * n, max_names) if max_names else epochs * n
        return max(1, math.ceil(names / batch_size))
    raise ConfigError("set steps or epochs to a positive number")
