"""Named settings: the tutorial's exact setups, our fast default, and our best model."""

from dataclasses import fields, replace

from nameclf.classify.config import ModelConfig, TrainConfig
from nameclf.errors import ConfigError

# name -> (model fields, training fields, split)
PRESETS: dict[str, tuple[dict, dict, str]] = {
    "seed-rnn": (  # the tutorial: one-hot, nn.RNN(n_chars, 128), SGD, 5000 random batches of 512
        dict(cell="rnn", embedding_dim=0, hidden_size=128),
        dict(optimizer="sgd", lr=0.15, momentum=0.9, batch_size=512, steps=5000,
             sampling="random", eval_every=500),
        "rows",
    ),
    "seed-lstm": (
        dict(cell="lstm", embedding_dim=0, hidden_size=128),
        dict(optimizer="sgd", lr=0.15, momentum=0.9, batch_size=512, steps=8000,
             sampling="random", eval_every=500),
        "rows",
    ),
    "fast": (  # best accuracy in about 15 s on a 2-core CPU: 5 epochs, or 80,000 names (the
        # reference file's 5 epochs) on a bigger file, so its time does not grow with the file
        dict(cell="gru", embedding_dim=32, hidden_size=128),
        dict(optimizer="adamw", lr=0.005, batch_size=64, steps=0, epochs=5, max_names=80_000,
             sampling="bucket", schedule="cosine", clip_grad=1.0, eval_every=100),
        "names",
    ),
    "best": (  # the moonshot's best model on validation (bench/moonshot.py), ~1.5 min: a
        # bidirectional LSTM with the n-gram baseline, reading word frequencies too (lexicon),
        # mixed in at the weight validation chose
        dict(cell="lstm", embedding_dim=64, hidden_size=256, bidirectional=True, dropout=0.3,
             ngram_weight=0.5, lexicon=True),
        dict(optimizer="adamw", lr=0.003, weight_decay=0.01, batch_size=64, steps=0, epochs=8,
             sampling="bucket", schedule="cosine", clip_grad=1.0, label_smoothing=0.1,
             eval_every=200),
        "names",
    ),
}
DEFAULT_PRESET = "fast"


def preset(name: str) -> tuple[ModelConfig, TrainConfig, str]:
    """Fresh configs for a preset."""
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}")
    model, train, split = PRESETS[name]
    return ModelConfig(**model), TrainConfig(**train), split


def override(config, values: dict):
    """A copy of a dataclass config with the non-None `values` that name its fields."""
    names = {f.name for f in fields(config)}
    return replace(config, **{k: v for k, v in values.items() if k in names and v is not None})
