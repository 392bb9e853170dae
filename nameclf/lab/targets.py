"""The output side of batching, step by step, from the real tensors of a few names.

Plain data for a page or JSON: the shifted inputs and targets, the padded target grid, the
loss mask with the masked and unmasked loss of this batch, the packed targets with their
loss, and teacher forcing against free running for one name.
"""

import torch

from nameclf.data.vocab import Vocab
from nameclf.errors import ConfigError
from nameclf.generate.batches import PAD_ID, batch_of, token_names
from nameclf.generate.loss import loss_report, packed_targets
from nameclf.generate.model import NameGenerator

MAX_NAMES, MAX_CHARS = 8, 24


def explain_targets(names: list[str], labels: list[str], classes: list[str], vocab: Vocab,
                    model: NameGenerator) -> dict:
    """Everything the walkthrough shows about this batch, computed by `model`."""
    if not names or not all(names):
        raise ConfigError("type at least one name, and no empty names")
    if len(names) > MAX_NAMES or max(map(len, names)) > MAX_CHARS:
        raise ConfigError(f"at most {MAX_NAMES} names of {MAX_CHARS} characters each")
    unknown = sorted(set(labels) - set(classes))
    if unknown:
        raise ConfigError(f"unknown label(s): {', '.join(unknown)}")
    tokens = token_names(vocab)
    batch = batch_of(names, [classes.index(x) for x in labels], vocab)
    model.eval()
    report = loss_report(model, batch)
    packed = torch.nn.utils.rnn.pack_padded_sequence(batch.targets, batch.lengths,
                                                     enforce_sorted=False)
    show = lambda grid: [[tokens[i] for i in row] for row in grid.T.tolist()]  # noqa: E731
    return {
        "names": list(names), "labels": list(labels),
        "lengths": batch.lengths.tolist(),  # characters + 1
        "inputs": show(batch.inputs),  # (B, T) as tokens
        "targets": show(batch.targets),
        "mask": batch.mask.T.tolist(),  # (B, T): True where the loss counts
        "unknown": sorted({c for n in names for c in vocab.unknown_chars(n)}),
        **report,
        "packed_targets": [tokens[i] for i in packed_targets(batch).tolist()],
        "batch_sizes": packed.batch_sizes.tolist(),
        "sorted_names": [names[i] for i in packed.sorted_indices.tolist()],
        "forcing": forcing(model, batch, tokens, 0),
    }


@torch.no_grad()
def forcing(model: NameGenerator, batch, tokens: list[str], b: int) -> dict:
    """For name `b`: at each step the net's guess when fed the true previous character
    (teacher forcing, as in training), and what it writes feeding itself (free running,
    as when generating), always taking its likeliest token."""
    n = int(batch.lengths[b])
    inputs, targets = batch.inputs[:n, b : b + 1], batch.targets[:n, b]  # (n, 1), (n,)
    label = batch.labels[b : b + 1]
    logits, _ = model(inputs, label)  # (n, 1, V)
    probs = torch.softmax(masked(logits[:, 0]), dim=1)  # (n, V)
    guess = probs.argmax(dim=1)
    teacher = [{"input": tokens[int(inputs[t, 0])], "target": tokens[int(targets[t])],
                "guess": tokens[int(guess[t])], "p_target": float(probs[t, targets[t]])}
               for t in range(n)]
    free, state = [], None
    token = torch.tensor([[model.config.sos]])
    for _ in range(MAX_CHARS + 1):  # its own length, not the true name's
        logits, state = model(token, label, state)
        nxt = int(masked(logits[-1]).argmax(dim=1))
        free.append(tokens[nxt])
        if nxt == model.config.eos:
            break
        token = torch.tensor([[nxt]])
    return {"name": batch_name(batch, tokens, b), "teacher": teacher, "free": free}


def masked(logits: torch.Tensor) -> torch.Tensor:
    """Logits with <pad> and <unk> ruled out, as when sampling."""
    logits = logits.clone()
    logits[..., PAD_ID] = logits[..., 1] = float("-inf")
    return logits


def batch_name(batch, tokens: list[str], b: int) -> str:
    n = int(batch.lengths[b]) - 1
    return "".join(tokens[i] for i in batch.targets[:n, b].tolist())


def untrained(vocab: Vocab, classes: list[str], seed: int = 0) -> NameGenerator:
    """A small generator with random weights, for the walkthrough before any training."""
    from nameclf.generate.config import GeneratorConfig

    torch.manual_seed(seed)
    return NameGenerator(GeneratorConfig(vocab_size=len(vocab), n_labels=len(classes),
                                         hidden_size=32, embedding_dim=16, label_dim=8))
