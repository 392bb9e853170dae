"""Names from a trained generator: by label, temperature, top-k, a prefix, seeded; and how
good they are: novelty (not a training name) and agreement (a classifier says the label)."""

from collections import Counter
from dataclasses import dataclass

import torch

from nameclf.data.vocab import normalize
from nameclf.errors import ConfigError
from nameclf.generate.batches import PAD_ID, name_hash
from nameclf.generate.mixture import mix_step

MAX_SAMPLES = 1000  # names per call
MAX_LEN = 40  # the data's own cap on a name (nameclf.data.dataset.MAX_NAME_LEN)


@dataclass
class SampleConfig:
    """What to generate."""

    label: str  # one of the run's labels
    n: int = 10  # how many names
    temperature: float = 0.8  # <1 sharper, >1 flatter; 0 = always the likeliest character
    top_k: int = 0  # keep only the k likeliest next tokens; 0 = all
    prefix: str = ""  # every name starts with this
    max_len: int = 20  # characters at most, prefix included
    seed: int = 0

    def validate(self, classes: list[str]) -> None:
        checks = [
            (self.label in classes, f"unknown label {self.label!r}; the generator knows "
                                    f"{', '.join(classes[:20])}"),
            (1 <= self.n <= MAX_SAMPLES, f"the number of names must be 1 to {MAX_SAMPLES}"),
            (0 <= self.temperature <= 10, "temperature must be 0 to 10"),
            (self.top_k >= 0, "top-k must be 0 (all) or more"),
            (1 <= self.max_len <= MAX_LEN, f"the maximum length must be 1 to {MAX_LEN}"),
            (len(self.prefix) < self.max_len, "the prefix must be shorter than the maximum length"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)


def next_token(logits: torch.Tensor, temperature: float, top_k: int,
               gen: torch.Generator) -> torch.Tensor:
    """Pick one token per row of logits (B, V) (pad and unk already at -inf)."""
    if temperature == 0:
        return logits.argmax(dim=1)
    logits = logits / temperature
    if top_k:
        kth = logits.topk(min(top_k, logits.size(1)), dim=1).values[:, -1:]  # (B, 1)
        logits = logits.masked_fill(logits < kth, float("-inf"))
    return torch.multinomial(torch.softmax(logits, dim=1), 1, generator=gen).squeeze(1)


@torch.no_grad()
def sample_names(run, cfg: SampleConfig) -> list[str]:
    """`cfg.n` names of `cfg.label`, generated side by side, one character per step; from
    the mixture of the net and the n-gram LM when the run mixes them."""
    cfg.validate(run.classes)
    model, vocab = run.model, run.vocab
    prefix = normalize(cfg.prefix, run.info.get("ascii_fold", True)) if cfg.prefix else ""
    unknown = vocab.unknown_chars(prefix)
    if unknown:
        raise ConfigError(f"the prefix has characters the generator never saw: "
                          f"{' '.join(unknown[:8])}")
    model.eval()
    device = next(model.parameters()).device
    gen = torch.Generator().manual_seed(cfg.seed)
    labels = torch.full((cfg.n,), run.classes.index(cfg.label), dtype=torch.long, device=device)
    feed = torch.tensor([model.config.sos, *vocab.encode(prefix)], device=device)  # (P + 1,)
    logits, state = model(feed.view(-1, 1).expand(-1, cfg.n), labels)  # teacher-forced prefix
    out = [list(prefix) for _ in range(cfg.n)]
    alive = torch.ones(cfg.n, dtype=torch.bool)
    tokens = vocab.tokens
    cache: dict = {}  # the n-gram LM's distribution by context, when it is mixed in
    for _ in range(cfg.max_len - len(prefix) + 1):
        step = logits[-1].cpu().clone()  # (B, V)
        if run.ngram_weight:  # the mixture's log-probabilities stand in for the logits
            step = mix_step(step, vocab, run.ngram, run.ngram_weight, cfg.label, out, cache)
        step[:, PAD_ID] = step[:, 1] = float("-inf")  # never sample <pad> or <unk>
        empty = torch.tensor([not o for o in out])
        step[empty, model.config.eos] = float("-inf")  # nor end a name before it starts
        if not any(len(o) < cfg.max_len for o in out):
            break
        nxt = next_token(step, cfg.temperature, cfg.top_k, gen)  # (B,)
        for b, tok in enumerate(nxt.tolist()):
            if not alive[b]:
                continue
            if tok == model.config.eos or len(out[b]) >= cfg.max_len:
                alive[b] = False
            else:
                out[b].append(tokens[tok])
        if not alive.any():
            break
        logits, state = model(nxt.to(device).view(1, -1), labels, state)  # free running
    return ["".join(o) for o in out]


def novelty(samples: list[str], train_hashes: torch.Tensor) -> float:
    """The share of samples that are not training names (their hashes are not there)."""
    known = set(train_hashes.tolist())
    return sum(name_hash(s) not in known for s in samples) / len(samples) if samples else 0.0


def agreement(classifier_run, samples: list[str], label: str) -> float:
    """The share of samples that the classifier's top-1 assigns to `label`."""
    from nameclf.classify.pipeline import predict

    preds = predict(classifier_run, samples, k=1)
    hits = [bool(p.top) and p.top[0][0] == label for p in preds]
    return sum(hits) / len(hits) if hits else 0.0


def classifier_top1(classifier_run, names: list[str], labels: list[str]) -> dict[str, float]:
    """The classifier's own top-1 on real names, per label."""
    from nameclf.classify.pipeline import predict

    right, total = Counter(), Counter()
    for pred, label in zip(predict(classifier_run, names, k=1), labels):
        total[label] += 1
        right[label] += bool(pred.top) and pred.top[0][0] == label
    return {k: right[k] / total[k] for k in sorted(total)}


def judge(run, classifier_run, per_label: dict[str, list[str]],
          real: tuple[list[str], list[str]] | None = None) -> dict:
    """Novelty and agreement of samples by label; with real test names, the classifier's
    top-1 on them beside, and agreement as a share of it (macro over labels)."""
    every = [s for names in per_label.values() for s in names]
    out = {"novelty": novelty(every, run.train_hashes) if run.train_hashes is not None else None}
    if classifier_run is None:
        return out
    unknown = sorted(set(per_label) - set(classifier_run.classes))
    if unknown:
        raise ConfigError(f"the classifier does not know the label(s) {', '.join(unknown[:5])}")
    agree = {label: agreement(classifier_run, names, label) for label, names in per_label.items()}
    out["agreement"] = sum(agree.values()) / len(agree)
    out["agreement_by_label"] = agree
    if real is not None:
        top1 = classifier_top1(classifier_run, *real)
        shown = {k: top1[k] for k in agree if k in top1}
        if shown:
            out["classifier_top1"] = sum(shown.values()) / len(shown)
            out["classifier_top1_by_label"] = shown
            out["agreement_over_top1"] = out["agreement"] / max(out["classifier_top1"], 1e-9)
    return out
