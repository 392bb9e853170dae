"""A classical baseline: TF-IDF over character n-grams and a logistic regression.

It is fitted with scikit-learn but predicts with torch alone, behind the same
`forward(idx, lengths)` as the recurrent models, so evaluation, prediction and
checkpoints need no special case. Its saved state is three tensors plus JSON (the n-gram
list and settings): a checkpoint is never pickled. The fit itself is nameclf.classify.logistic.

With `ModelConfig.lexicon` it also reads how common the name is as a word in 12 languages
(nameclf.data.lexicon): N_FEATURES more inputs to the same linear layer, a fourth tensor.
"""

import math
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from nameclf.batching.batches import Encoded
from nameclf.classify.config import BATCHING, ModelConfig, TrainConfig
from nameclf.classify.evaluate import topk_accuracy
from nameclf.classify.logistic import fit_sklearn, fit_stoppable, pick_solver
from nameclf.classify.train import History, Progress, TrainResult
from nameclf.data import lexicon
from nameclf.data.vocab import Vocab
from nameclf.errors import ConfigError

ANALYZERS = ("char_wb", "char")  # char_wb: n-grams inside words padded with spaces
SOLVERS = ("auto", "lbfgs", "sgd")  # see NgramConfig.solver
MAX_FEATURES = 2_000_000  # a foreign checkpoint must not make the model huge
_WHITE_SPACES = re.compile(r"\s\s+")  # as scikit-learn normalizes whitespace


@dataclass
class NgramConfig:
    """Features and regularization of the n-gram baseline."""

    analyzer: str = "char_wb"  # char_wb (word edges marked by spaces) | char
    min_n: int = 1  # shortest n-gram
    max_n: int = 4  # longest n-gram
    lowercase: bool = True  # read "Schmidt" and "schmidt" alike
    sublinear_tf: bool = True  # term frequency 1 + log(count)
    min_df: int = 2  # keep n-grams seen in at least this many training names (2: on the
    # reference file's validation split as accurate as 1, with 42% fewer n-grams, fit 2x faster)
    C: float = 10.0  # inverse L2 strength of the logistic regression
    max_iter: int = 1000  # L-BFGS iterations at most
    solver: str = "auto"  # lbfgs: one multinomial fit; sgd: one-vs-rest logistic loss by SGD,
    # whose time grows far less with the labels; auto: lbfgs up to SGD_ABOVE labels, sgd beyond
    # (nameclf.classify.logistic; chosen on validation, docs/data.md)

    def validate(self) -> None:
        """Raise ConfigError for settings no model can be built from."""
        checks = [
            (self.analyzer in ANALYZERS, f"analyzer must be one of {', '.join(ANALYZERS)}"),
            (1 <= self.min_n <= self.max_n <= 8, "n-gram lengths must be 1 <= min_n <= max_n <= 8"),
            (self.min_df >= 1, "min_df must be at least 1"),
            (math.isfinite(self.C) and self.C > 0, "C must be a positive number"),
            (1 <= self.max_iter <= 100_000, "max_iter must be 1 to 100,000"),
            (self.solver in SOLVERS, f"solver must be one of {', '.join(SOLVERS)}"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)


def char_ngrams(text: str, config: NgramConfig) -> list[str]:
    """The n-grams scikit-learn's `char` / `char_wb` analyzers yield for `text`, in order."""
    if config.lowercase:
        text = text.lower()
    text = _WHITE_SPACES.sub(" ", text)
    lo, hi = config.min_n, config.max_n
    if config.analyzer == "char":
        return [text[i : i + n] for n in range(lo, min(hi, len(text)) + 1)
                for i in range(len(text) - n + 1)]
    grams = []
    for word in text.split():
        w = f" {word} "
        for n in range(lo, hi + 1):
            grams += [w[i : i + n] for i in range(max(1, len(w) - n + 1))]
            if len(w) <= n:  # a word shorter than n counts once, as in scikit-learn
                break
    return grams


def placeholder(chars: tuple[str, ...]) -> str:
    """A character outside the vocabulary that stands for <unk>: its n-grams match nothing."""
    return next(c for c in map(chr, range(0xE000, 0xF900)) if c not in chars)


class NgramModel(nn.Module):
    """Character n-gram TF-IDF features and a linear layer; indices in, log-probabilities out."""

    def __init__(self, config: ModelConfig, vocab: Vocab, ngrams: list[str],
                 ngram_config: NgramConfig, coef: torch.Tensor, intercept: torch.Tensor,
                 idf: torch.Tensor, lexicon_coef: torch.Tensor | None = None):
        super().__init__()
        config.validate()
        ngram_config.validate()
        n_features = len(ngrams)
        if config.cell != "ngram":
            raise ConfigError(f"an NgramModel needs cell='ngram', not {config.cell!r}")
        if len(vocab) != config.vocab_size or n_features > MAX_FEATURES:
            raise ConfigError("the vocabulary or the n-gram list does not fit the model")
        if (coef.shape != (config.n_classes, n_features) or intercept.shape != (config.n_classes,)
                or idf.shape != (n_features,)):
            raise ConfigError("the n-gram weights do not match the number of labels and n-grams")
        if config.lexicon != (lexicon_coef is not None) or (
                config.lexicon and lexicon_coef.shape != (config.n_classes, lexicon.N_FEATURES)):
            raise ConfigError("the word-frequency weights do not match the model")
        self.config, self.ngram_config = config, ngram_config
        self.ngrams = list(ngrams)
        self.index = {g: i for i, g in enumerate(self.ngrams)}
        if len(self.index) != n_features:
            raise ConfigError("the n-gram list has duplicates")
        unk = placeholder(vocab.chars)
        self.tokens = ["", unk, *vocab.chars]  # by index: <pad> reads as nothing
        # parameters (frozen) so that `next(model.parameters())` finds the device
        self.coef = nn.Parameter(coef.float(), requires_grad=False)  # (C, F)
        self.intercept = nn.Parameter(intercept.float(), requires_grad=False)  # (C,)
        self.register_buffer("idf", idf.float())  # (F,)
        if lexicon_coef is not None:  # (C, N_FEATURES); the table itself is loaded when used
            self.lexicon_coef = nn.Parameter(lexicon_coef.float(), requires_grad=False)

    def decode(self, idx: torch.Tensor, lengths: torch.Tensor) -> list[str]:
        """Padded indices (T, B) back to strings, unseen characters as the placeholder."""
        columns = idx.T.tolist()  # (B, T)
        return ["".join(self.tokens[i] for i in col[: int(n)])
                for col, n in zip(columns, lengths.tolist(), strict=True)]

    def tfidf(self, names: list[str]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Sparse L2-normalized TF-IDF rows like scikit-learn's: (n-gram ids, values, offsets)."""
        cols, counts, offsets = [], [], []
        for name in names:
            found = Counter(self.index[g] for g in char_ngrams(name, self.ngram_config)
                            if g in self.index)
            offsets.append(len(cols))
            cols += list(found)
            counts += list(found.values())
        device = self.idf.device
        cols_t = torch.tensor(cols, dtype=torch.long, device=device)  # (nnz,)
        tf = torch.tensor(counts, dtype=torch.float32, device=device)  # (nnz,)
        offsets_t = torch.tensor(offsets, dtype=torch.long, device=device)  # (B,)
        if self.ngram_config.sublinear_tf:
            tf = 1 + tf.log()
        values = tf * self.idf[cols_t]  # (nnz,)
        sizes = torch.diff(offsets_t, append=offsets_t.new_tensor([len(cols)]))  # (B,)
        rows = torch.repeat_interleave(torch.arange(len(names), device=device), sizes)  # (nnz,)
        norms = torch.zeros(len(names), device=device).index_add_(0, rows, values**2).sqrt()  # (B,)
        return cols_t, values / norms[rows], offsets_t

    def forward(self, idx: torch.Tensor, lengths: torch.Tensor,
                batching: str = "packed") -> torch.Tensor:
        """Log-probabilities (B, n_classes) for padded indices (T, B); batching changes nothing."""
        if batching not in BATCHING:
            raise ConfigError(f"unknown batching {batching!r}; choose one of {', '.join(BATCHING)}")
        names = self.decode(idx, lengths)
        cols, values, offsets = self.tfidf(names)
        # sparse features times the weights: each name sums its n-grams' weighted columns
        logits = F.embedding_bag(cols, self.coef.T, offsets, mode="sum",
                                 per_sample_weights=values)  # (B, C)
        if self.config.lexicon:
            words = torch.from_numpy(lexicon.load().features(names)).to(logits.device)  # (B, W)
            logits = logits + words @ self.lexicon_coef.T
        return F.log_softmax(logits + self.intercept, dim=1)

    def n_params(self) -> int:
        extra = self.lexicon_coef.numel() if self.config.lexicon else 0
        return self.coef.numel() + self.intercept.numel() + extra

    def metadata(self) -> dict:
        """What a checkpoint stores as JSON besides the tensors."""
        meta = {"config": asdict(self.ngram_config), "ngrams": self.ngrams}
        if self.config.lexicon:
            meta["lexicon"] = {"languages": list(lexicon.LANGUAGES), "source": lexicon.source()}
        return meta

    @classmethod
    def from_state(cls, config: ModelConfig, vocab: Vocab, state: dict[str, torch.Tensor],
                   ngrams: list, ngram_config: NgramConfig,
                   languages: list | None = None) -> "NgramModel":
        """Rebuild a model from checkpoint tensors and JSON; refuses anything odd.

        `languages`: those of the word frequencies it was fitted with, if any.
        """
        if not isinstance(ngrams, list) or not all(isinstance(g, str) for g in ngrams):
            raise ConfigError("the n-gram list must hold strings")
        names = {"coef", "intercept", "idf"} | ({"lexicon_coef"} if config.lexicon else set())
        if set(state) != names:
            raise ConfigError(f"an n-gram checkpoint holds exactly {', '.join(sorted(names))}")
        if config.lexicon and languages != list(lexicon.LANGUAGES):
            raise ConfigError("its word frequencies are of other languages than this version's: "
                              f"{', '.join(lexicon.LANGUAGES)}")
        return cls(config, vocab, ngrams, ngram_config, state["coef"], state["intercept"],
                   state["idf"], state.get("lexicon_coef"))


def uniform_model(config: ModelConfig, vocab: Vocab, ngram_config: NgramConfig) -> NgramModel:
    """A model that knows no n-grams: every name gets the uniform guess."""
    n = config.n_classes
    words = torch.zeros(n, lexicon.N_FEATURES) if config.lexicon else None
    return NgramModel(config, vocab, [], ngram_config, torch.zeros(n, 0), torch.zeros(n),
                      torch.zeros(0), words)


def fit_ngram(train_set: Encoded, vocab: Vocab, config: ModelConfig, train_cfg: TrainConfig,
              eval_set: Encoded | None = None,
              callback: Callable[[Progress], None] | None = None,
              stop: threading.Event | None = None,
              ngram_config: NgramConfig | None = None) -> tuple[NgramModel, TrainResult]:
    """Fit the baseline in one go; one Progress at the end.

    With a `stop` event or a time budget the fit runs in a child process that either ends;
    a fit ended early has no partial model, so it keeps uniform predictions and 0 steps, its
    status "stopped" (Stop) or "time budget reached".
    """
    ngram_config = ngram_config or NgramConfig()
    start = time.perf_counter()
    uniform = uniform_model(config, vocab, ngram_config)  # decodes names; a stopped fit's model
    if stop is not None and stop.is_set():
        return uniform, TrainResult("stopped", 0, 0.0, 0.0, History())
    names = uniform.decode(train_set.idx.T, train_set.lengths)
    labels = train_set.labels.cpu().numpy()
    settings = asdict(ngram_config) | {"lexicon": config.lexicon}
    args = (names, labels, config.n_classes, settings, train_cfg.seed)
    budget = train_cfg.time_budget
    if stop is None and not budget:
        fitted = fit_sklearn(*args)
    else:
        fitted = fit_stoppable(*args, stop=stop, deadline=start + budget if budget else None)
    if fitted is None:  # ended early: nothing to keep
        status = "stopped" if stop is not None and stop.is_set() else "time budget reached"
        return uniform, TrainResult(status, 0, time.perf_counter() - start, 0.0, History())
    ngrams, coef, intercept, idf, loss, iters = fitted
    coef = torch.from_numpy(coef)
    n_grams = len(ngrams)  # a fit with word frequencies has their weights after the n-grams'
    words = coef[:, n_grams:] if config.lexicon else None
    model = NgramModel(config, vocab, ngrams, ngram_config, coef[:, :n_grams],
                       torch.from_numpy(intercept), torch.from_numpy(idf), words)
    model = model.to(train_set.idx.device).eval()
    seconds = time.perf_counter() - start
    speed = len(names) / max(seconds, 1e-9)
    history = History([iters], [loss], [loss])
    top = topk_accuracy(model, eval_set, (1, 2)) if eval_set is not None else None
    if top is not None:
        history.eval_step, history.top1, history.top2 = [iters], [top[0]], [top[1]]
    if callback is not None:
        callback(Progress(iters, iters, loss, loss, speed, time.perf_counter() - start, 0.0, 0.0,
                          *(top or (None, None))))
    return model, TrainResult("completed", iters, seconds, speed, history)


def fit_baseline(train_set: Encoded, vocab: Vocab, model_cfg: ModelConfig, train_cfg: TrainConfig,
                 eval_set: Encoded | None = None,
                 callback: Callable[[Progress], None] | None = None,
                 stop: threading.Event | None = None) -> tuple[NgramModel, TrainResult, dict]:
    """The n-gram baseline's trainer (train_cfg gives only the seed and the time budget)."""
    model, result = fit_ngram(train_set, vocab, model_cfg, train_cfg, eval_set, callback, stop)
    return model, result, solver_note(model_cfg)


def solver_note(model_cfg: ModelConfig) -> dict:
    """Which fit the n-gram model ran (L-BFGS iterations or SGD passes), for the pages."""
    return {"ngram_solver": pick_solver(NgramConfig().solver, model_cfg.n_classes)}
