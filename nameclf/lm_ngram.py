"""The classical baseline: a label-conditioned, interpolated Kneser-Ney character n-gram LM.

Written here (about 100 lines) rather than taken from nltk.lm: nltk's KneserNeyInterpolated
scores one n-gram at a time through deep Python recursion and its perplexity of unseen
contexts has long-standing open reports (nltk/nltk#2727, #3065); this one is small enough
to test exactly (every distribution sums to 1, seen context or not).

Conditioning: each label gets its own Kneser-Ney model, interpolated with one fitted on
every label's names, P(c | h, L) = w * P_L(c | h) + (1 - w) * P_all(c | h): a label with a
hundred names borrows what all names share. The order and w are chosen on a held-out tenth
of the training names, then the models are refitted on all of them.
"""

import math
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from nameclf.vocab import Vocab

BOS, EOS, UNK = "<s>", "</s>", "<unk>"
ORDERS = (3, 4, 5)
WEIGHTS = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def tokens(name: str, known: set[str]) -> list[str]:
    """A name's characters (unseen ones as <unk>) and the end marker."""
    return [c if c in known else UNK for c in name] + [EOS]


class KneserNey:
    """Interpolated Kneser-Ney over token sequences, Ney's discount per order."""

    def __init__(self, seqs: list[list[str]], order: int, n_types: int):
        self.order, self.n_types = order, n_types
        grams: list[Counter] = [Counter() for _ in range(order + 1)]  # by gram length
        for seq in seqs:
            padded = [BOS] * (order - 1) + seq
            for i in range(order - 1, len(padded)):
                grams[order][tuple(padded[i - order + 1 : i + 1])] += 1
        for n in range(order - 1, 0, -1):  # continuation counts: distinct left neighbours
            for gram in grams[n + 1]:
                grams[n][gram[1:]] += 1
        self.table: list[dict] = [{} for _ in range(order + 1)]  # context -> Counter(next)
        self.discount = [0.0] * (order + 1)
        for n in range(1, order + 1):
            by_context = defaultdict(Counter)
            for gram, count in grams[n].items():
                by_context[gram[:-1]][gram[-1]] = count
            self.table[n] = {h: (c, sum(c.values()), len(c)) for h, c in by_context.items()}
            n1 = sum(1 for v in grams[n].values() if v == 1)
            n2 = sum(1 for v in grams[n].values() if v == 2)
            self.discount[n] = min(0.95, max(0.1, n1 / (n1 + 2 * n2) if n1 + n2 else 0.5))

    def prob(self, token: str, context: tuple[str, ...]) -> float:
        """P(token | the last order - 1 tokens of context)."""
        p = 1.0 / self.n_types  # order 0: uniform over every token that can come next
        for n in range(1, self.order + 1):
            h = context[len(context) - n + 1 :] if n > 1 else ()
            entry = self.table[n].get(h)
            if entry is None:
                continue  # unseen context: keep the lower order's estimate
            counts, total, kinds = entry
            d = self.discount[n]
            p = max(counts.get(token, 0) - d, 0.0) / total + d * kinds / total * p
        return p


@dataclass
class NgramLM:
    """Label-conditioned character LM: one Kneser-Ney model per label, mixed with a global one."""

    order: int = 5
    weight: float = 0.8  # of the label's own model
    known: set[str] = field(default_factory=set)
    models: dict = field(default_factory=dict)  # label -> KneserNey; None -> all labels

    def fit(self, names: list[str], labels: list[str]) -> "NgramLM":
        self.known = set(Vocab.build(names).chars)
        n_types = len(self.known) + 2  # characters, <unk>, </s>
        by_label = defaultdict(list)
        for name, label in zip(names, labels):
            by_label[label].append(tokens(name, self.known))
        every = [seq for seqs in by_label.values() for seq in seqs]
        self.models = {label: KneserNey(seqs, self.order, n_types)
                       for label, seqs in by_label.items()}
        self.models[None] = KneserNey(every, self.order, n_types)
        return self

    def describe(self) -> str:
        return f"Kneser-Ney {self.order}-gram LM (the label's own model weighted {self.weight:g})"

    def name_nats(self, name: str, label: str) -> tuple[float, int]:
        """Summed nats of one name's tokens (characters and the end), and how many."""
        seq = tokens(name, self.known)
        own, every = self.models.get(label), self.models[None]
        w = self.weight if own is not None else 0.0
        context = (BOS,) * (self.order - 1)
        nats = 0.0
        for tok in seq:
            p = (w * own.prob(tok, context) if w else 0.0) + (1 - w) * every.prob(tok, context)
            nats -= math.log(p)
            context = (*context[1:], tok)
        return nats, len(seq)

    def bits_per_char(self, names: list[str], labels: list[str]) -> tuple[float, dict]:
        """Bits per character (characters and the end) overall and per label."""
        nats, cells = Counter(), Counter()
        for name, label in zip(names, labels):
            n, c = self.name_nats(name, label)
            nats[label] += n
            cells[label] += c
        overall = sum(nats.values()) / max(1, sum(cells.values())) / math.log(2)
        return overall, {k: nats[k] / cells[k] / math.log(2) for k in sorted(cells)}


def fit_ngram_lm(names: list[str], labels: list[str], seed: int = 0,
                 orders=ORDERS, weights=WEIGHTS) -> NgramLM:
    """Choose order and weight on a held-out tenth of the training names, then refit on all."""
    rng = random.Random(seed)
    rows = list(range(len(names)))
    rng.shuffle(rows)
    cut = max(1, len(rows) // 10)
    held, kept = rows[:cut], rows[cut:]
    pick = lambda rs, xs: [xs[i] for i in rs]  # noqa: E731
    best = None
    for order in orders:
        lm = NgramLM(order).fit(pick(kept, names), pick(kept, labels))
        for w in weights:
            lm.weight = w
            bpc, _ = lm.bits_per_char(pick(held, names), pick(held, labels))
            if best is None or bpc < best[0]:
                best = (bpc, order, w)
    _, order, w = best
    return NgramLM(order, w).fit(names, labels)
