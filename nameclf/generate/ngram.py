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

from nameclf.data.vocab import Vocab

BOS, EOS, UNK = "<s>", "</s>", "<unk>"
ORDERS = (3, 4, 5)
WEIGHTS = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def tokens(name: str, known: set[str]) -> list[str]:
    """A name's characters (unseen ones as <unk>) and the end marker."""
    return [c if c in known else UNK for c in name] + [EOS]


def top_grams(seqs: list[list[str]], order: int) -> Counter:
    """How often each n-gram of the highest order occurs, contexts padded with <s>."""
    top: Counter = Counter()
    for seq in seqs:
        padded = [BOS] * (order - 1) + seq
        for i in range(order - 1, len(padded)):
            top[tuple(padded[i - order + 1 : i + 1])] += 1
    return top


class KneserNey:
    """Interpolated Kneser-Ney over token sequences, Ney's discount per order."""

    def __init__(self, top: Counter, order: int, n_types: int):
        """From the counts of the highest-order grams (`top_grams`): everything else, the
        lower orders' continuation counts and the discounts, follows from them."""
        self.order, self.n_types, self.top = order, n_types, top
        grams: list[Counter] = [Counter() for _ in range(order + 1)]  # by gram length
        grams[order] = top
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

    @classmethod
    def from_seqs(cls, seqs: list[list[str]], order: int, n_types: int) -> "KneserNey":
        return cls(top_grams(seqs, order), order, n_types)

    def prob(self, token: str, context: tuple[str, ...]) -> float:
        """P(token | the last order - 1 tokens of context).

        `distribution` for one token, written out on purpose: scoring names goes through
        here, and through `distribution([token])` or a shared generator of the seen orders
        it took 1.5-1.9x as long (the fit's order search scores the held-out names 18
        times, inside the generator's time budget)."""
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

    def distribution(self, types: list[str], context: tuple[str, ...]) -> list[float]:
        """`prob` of every t of `types` at once (for sampling and the mixture)."""
        p = [1.0 / self.n_types] * len(types)
        for n in range(1, self.order + 1):
            h = context[len(context) - n + 1 :] if n > 1 else ()
            entry = self.table[n].get(h)
            if entry is None:
                continue
            counts, total, kinds = entry
            d = self.discount[n]
            back = d * kinds / total
            p = [max(counts.get(t, 0) - d, 0.0) / total + back * q for t, q in zip(types, p)]
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
        self.models = {label: KneserNey.from_seqs(seqs, self.order, n_types)
                       for label, seqs in by_label.items()}
        self.models[None] = KneserNey.from_seqs(every, self.order, n_types)
        return self

    @classmethod
    def from_counts(cls, order: int, weight: float, known: set[str],
                    by_label: dict[str, Counter]) -> "NgramLM":
        """The model `fit` would give, from each label's highest-order gram counts (what a
        generator checkpoint stores); the global model's counts are their sum."""
        n_types = len(known) + 2
        models: dict = {label: KneserNey(top, order, n_types) for label, top in by_label.items()}
        models[None] = KneserNey(sum(by_label.values(), Counter()), order, n_types)
        return cls(order, weight, set(known), models)

    @property
    def types(self) -> list[str]:
        """Every token it predicts: the known characters (sorted), <unk>, </s>."""
        return [*sorted(self.known), UNK, EOS]

    def parts(self, label: str) -> tuple["KneserNey | None", "KneserNey", float]:
        """The label's own model, the all-labels model, and the own model's weight (0 for a
        label it never saw): P(c | h, L) = w P_L(c | h) + (1 - w) P_all(c | h)."""
        own = self.models.get(label)
        return own, self.models[None], self.weight if own is not None else 0.0

    def next_probs(self, label: str, context: tuple[str, ...]) -> list[float]:
        """P(t | the last order - 1 tokens, label) for every t of `types`."""
        own, every, w = self.parts(label)
        types = self.types
        p_all = every.distribution(types, context)
        if not w:
            return p_all
        p_own = own.distribution(types, context)
        return [w * a + (1 - w) * b for a, b in zip(p_own, p_all)]

    def cell_probs(self, name: str, label: str) -> list[float]:
        """P of each of a name's tokens (characters, then the end) given what came before."""
        return self.seq_probs(tokens(name, self.known), label)

    def seq_probs(self, seq: list[str], label: str) -> list[float]:
        """P of each token of `seq` (from `types`) given the tokens before it."""
        own, every, w = self.parts(label)
        context = (BOS,) * (self.order - 1)
        out = []
        for tok in seq:  # next_probs one token at a time, through the faster `prob`
            out.append((w * own.prob(tok, context) if w else 0.0)
                       + (1 - w) * every.prob(tok, context))
            context = (*context[1:], tok)
        return out

    def describe(self) -> str:
        return f"Kneser-Ney {self.order}-gram LM (the label's own model weighted {self.weight:g})"

    def name_nats(self, name: str, label: str) -> tuple[float, int]:
        """Summed nats of one name's tokens (characters and the end), and how many."""
        probs = self.cell_probs(name, label)
        return -sum(math.log(p) for p in probs), len(probs)

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
                 orders=ORDERS, weights=WEIGHTS, stop=None) -> NgramLM:
    """Choose order and weight on a held-out tenth of the training names, then refit on all.
    `stop()` true ends the search early (after the order being tried; the best so far)."""
    rng = random.Random(seed)
    rows = list(range(len(names)))
    rng.shuffle(rows)
    cut = max(1, len(rows) // 10)
    held, kept = rows[:cut], rows[cut:]
    pick = lambda rs, xs: [xs[i] for i in rs]  # noqa: E731
    best = None
    for order in orders:
        if best is not None and stop is not None and stop():
            break
        lm = NgramLM(order).fit(pick(kept, names), pick(kept, labels))
        for w in weights:
            lm.weight = w
            bpc, _ = lm.bits_per_char(pick(held, names), pick(held, labels))
            if best is None or bpc < best[0]:
                best = (bpc, order, w)
    _, order, w = best
    return NgramLM(order, w).fit(names, labels)
