"""The generator's notebook: cells that train a generator run's network again in plain PyTorch.

`generator_notebook` is pure: settings and data in, an nbformat notebook out. It shows the
shifted targets, the masked loss with `ignore_index` and sampling by label; its last cell
prints the test bits per character. The code imports no nameclf.
"""

from dataclasses import asdict

from nameclf.errors import ConfigError
from nameclf.generate.config import GeneratorConfig, GenTrainConfig
from nameclf.lab import notebook_data as cells
from nameclf.lab.notebook import DataSpec, build, settings_cell

SHIFT = """\
V = len(chars) + 2  # <pad>, <unk>, the characters
EOS, SOS = V, V + 1  # <eos> ends a name (a target only), <sos> starts one (an input only)
label_id = {c: i for i, c in enumerate(classes)}


def distinct(rows):
    \"\"\"The first row of each (name, label) pair: repeats would be learned by heart.\"\"\"
    seen, out = set(), []
    for i in rows:
        if (names[i], labels[i]) not in seen:
            seen.add((names[i], labels[i]))
            out.append(i)
    return out


def shifted(rows):
    \"\"\"Inputs <sos> + name and targets name + <eos>, both padded with 0 (N, T).\"\"\"
    lengths = torch.tensor([len(names[i]) + 1 for i in rows])  # (N,) characters + 1
    inputs = torch.zeros(len(rows), int(lengths.max()), dtype=torch.long)  # (N, T)
    targets = torch.zeros_like(inputs)  # (N, T)
    for r, i in enumerate(rows):
        ids = encode(names[i])
        inputs[r, : len(ids) + 1] = torch.tensor([SOS, *ids])
        targets[r, : len(ids) + 1] = torch.tensor([*ids, EOS])
    return inputs, targets, lengths, torch.tensor([label_id[labels[i]] for i in rows])


train_set, test_set = shifted(distinct(train_rows)), shifted(distinct(test_rows))
tokens = ["<pad>", "<unk>", *chars, "<eos>", "<sos>"]
x, t, n, _ = train_set
print("input ", [tokens[i] for i in x[0, : n[0]]])
print("target", [tokens[i] for i in t[0, : n[0]]])
print(f"{len(train_set[0]):,} training names, {len(test_set[0]):,} test names")"""

MODEL = """\
CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class NameGenerator(nn.Module):
    \"\"\"(<sos> + characters so far, label) in, logits over the next token out.\"\"\"

    def __init__(self, cell, embedding_dim, label_dim, hidden_size, num_layers, dropout):
        super().__init__()
        self.embed = nn.Embedding(V + 2, embedding_dim, padding_idx=0)
        self.label_embed = nn.Embedding(len(classes), label_dim)
        self.rnn = CELLS[cell](embedding_dim + label_dim, hidden_size, num_layers,
                               dropout=dropout if num_layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden_size, V + 1)  # pad, unk, characters, eos

    def forward(self, inputs, labels, state=None):  # inputs (T, B), labels (B,)
        lab = self.label_embed(labels).expand(inputs.size(0), -1, -1)  # (T, B, L)
        x = torch.cat([self.embed(inputs), lab], dim=-1)  # the label beside every character
        out, state = self.rnn(self.drop(x), state)  # (T, B, H)
        return self.out(self.drop(out)), state  # (T, B, V + 1)


torch.set_num_threads(1)  # a net this small trains fastest on one CPU thread (so does the app)
torch.manual_seed(SETTINGS["train"]["seed"])
model = NameGenerator(**SETTINGS["model"])
print(model, f"{sum(p.numel() for p in model.parameters()):,} parameters", sep="\\n")"""

LOSS = """\
def take(data, sel):
    \"\"\"Rows `sel` as time-major grids (T, B) cut at their longest name.\"\"\"
    inputs, targets, lengths, labels = data
    n = lengths[sel]
    return inputs[sel, : int(n.max())].T, targets[sel, : int(n.max())].T, n, labels[sel]


def masked_loss(logits, targets, reduction="mean"):
    \"\"\"Cross-entropy over the real target cells only: <pad> (0) targets are skipped.\"\"\"
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1),
                           ignore_index=0, reduction=reduction)


order = torch.argsort(train_set[2])  # by length: a short, two middle and the longest name
x, t, n, lab = take(train_set, order[[0, len(order) // 3, 2 * len(order) // 3, -1]])
with torch.no_grad():
    logits, _ = model(x, lab)
    plain = F.cross_entropy(logits.reshape(-1, logits.size(-1)), t.reshape(-1))
print(f"masked {float(masked_loss(logits, t)):.3f} over {int((t != 0).sum())} real cells; "
      f"unmasked {float(plain):.3f} over all {t.numel()}, padding included (wrong)")"""

LOOP = """\
T = SETTINGS["train"]


""" + cells.BATCHES_AND_SCHEDULE + """@torch.no_grad()
def bits_per_char(data):
    \"\"\"Test bits per character: every character and <eos>, never the padding.\"\"\"
    model.eval()
    nats, cells = 0.0, 0
    for sel in torch.arange(len(data[0])).split(1024):
        x, t, n, lab = take(data, sel)
        nats += float(masked_loss(model(x, lab)[0], t, reduction="sum"))
        cells += int(n.sum())
    model.train()
    return nats / cells / math.log(2)


n_train = len(train_set[0])
n_steps = T["steps"] or max(1, math.ceil(T["epochs"] * n_train / T["batch_size"]))
if T["optimizer"] == "sgd":
    optimizer = torch.optim.SGD(model.parameters(), lr=T["lr"], momentum=0.9,
                                weight_decay=T["weight_decay"])
else:
    opt = torch.optim.Adam if T["optimizer"] == "adam" else torch.optim.AdamW
    optimizer = opt(model.parameters(), lr=T["lr"], weight_decay=T["weight_decay"])
torch.manual_seed(T["seed"])
gen = torch.Generator().manual_seed(T["seed"])
batches = sample_batches(train_set[2], T["batch_size"], T["sampling"], gen)
params = list(model.parameters())
good = [p.detach().clone() for p in params]  # the last weights that gave a sane loss
limit = 3 * math.log(V + 1)  # a running loss 3x that of guessing: it blew up
curves = {"step": [], "loss": [], "eval_step": [], "test_bpc": []}
status, running, seconds, step = "completed", None, 0.0, 0
model.train()
while step < n_steps:
    t0 = time.perf_counter()
    for group in optimizer.param_groups:
        group["lr"] = lr_at(step, n_steps)
    x, t, n, lab = take(train_set, next(batches))
    optimizer.zero_grad(set_to_none=True)
    loss = masked_loss(model(x, lab)[0], t)
    loss.backward()
    value = float(loss.detach())
    running = value if running is None else 0.95 * running + 0.05 * value
    if not math.isfinite(value) or running > limit:
        with torch.no_grad():
            for p, g in zip(params, good):
                p.copy_(g)
        status = "diverged: lower the learning rate"
        break
    with torch.no_grad():
        for p, g in zip(params, good):
            g.copy_(p)
    if T["clip_grad"]:
        torch.nn.utils.clip_grad_norm_(params, T["clip_grad"])
    optimizer.step()
    step += 1
    seconds += time.perf_counter() - t0  # training time: evaluation is not counted
    curves["step"].append(step)
    curves["loss"].append(running)
    if (T["eval_every"] and step % T["eval_every"] == 0) or step == n_steps:
        curves["eval_step"].append(step)
        curves["test_bpc"].append(bits_per_char(test_set))
model.eval()
print(f"{status}: {step} steps in {seconds:.1f} s of training")"""

EVALUATE = """\
test_bpc = bits_per_char(test_set)
print(f"test bits per character {test_bpc:.4f} on {len(test_set[0]):,} names")"""

PLOT = """\
import plotly.graph_objects as go
from plotly.subplots import make_subplots

fig = make_subplots(rows=1, cols=2, subplot_titles=("running loss (nats/char)",
                                                    "test bits per character"))
fig.add_scatter(x=curves["step"], y=curves["loss"], name="loss", row=1, col=1)
fig.add_scatter(x=curves["eval_step"], y=curves["test_bpc"], name="test", row=1, col=2)
fig.update_xaxes(title_text="step")
fig.update_layout(height=350)
fig.show()"""

SAMPLE = """\
@torch.no_grad()
def sample(label, n=5, temperature=0.8, max_len=20, seed=0):
    \"\"\"n names of `label`, one character a step, fed back until <eos>.\"\"\"
    gen = torch.Generator().manual_seed(seed)
    labs = torch.full((n,), label_id[label])
    logits, state = model(torch.full((1, n), SOS), labs)
    out, alive = [[] for _ in range(n)], [True] * n
    for _ in range(max_len + 1):
        step = logits[-1] / temperature  # (n, V + 1)
        step[:, :2] = float("-inf")  # never <pad> or <unk>
        step[torch.tensor([not o for o in out]), EOS] = float("-inf")  # nor end before a letter
        nxt = torch.multinomial(torch.softmax(step, dim=1), 1, generator=gen).squeeze(1)
        for b, tok in enumerate(nxt.tolist()):
            if alive[b] and (tok == EOS or len(out[b]) >= max_len):
                alive[b] = False
            elif alive[b]:
                out[b].append(tokens[tok])
        if not any(alive):
            break
        logits, state = model(nxt.view(1, -1), labs, state)
    return ["".join(o) for o in out]


for label in classes[:3]:
    print(label, sample(label))"""

RESULT = """\
print(json.dumps({"test_bits_per_char": round(test_bpc, 4), "steps": step,
                  "seconds": round(seconds, 2)}))"""


def generator_notebook(model_cfg: GeneratorConfig, train_cfg: GenTrainConfig, split: str,
                       data: DataSpec, split_seed: int | None = None,
                       title: str = "A nameclf generator in plain PyTorch"):
    """The notebook that trains this generator run's network again without nameclf."""
    if model_cfg.cell not in ("rnn", "lstm", "gru"):
        raise ConfigError(f"a generator's cell is rnn, lstm or gru, not {model_cfg.cell!r}")
    notes = []
    if train_cfg.ngram_weight:
        notes.append(f"the run mixed an n-gram LM into its next-character probabilities "
                     f"(weight {train_cfg.ngram_weight:g}). This notebook exports the network "
                     "alone: compare its figure with the run's *network alone*.")
    if train_cfg.time_budget:
        notes.append(f"the run stopped at a time budget ({train_cfg.time_budget:g} s) if it "
                     "came first; this notebook runs every step, so it ends the same on any "
                     "machine.")
    if train_cfg.batching != "padded":
        notes.append(f"the run read its batches {train_cfg.batching}; this notebook pads them "
                     "and masks the loss. The same maths at a different speed (with dropout, "
                     "different random masks).")
    model = {k: v for k, v in asdict(model_cfg).items()
             if k not in ("vocab_size", "n_labels")}
    train = {k: v for k, v in asdict(train_cfg).items()
             if k not in ("batching", "time_budget", "ngram_weight")}
    seed = train_cfg.seed if split_seed is None else split_seed
    settings = dict(data.settings(), split=split, seed=seed, model=model, train=train)
    intro = "\n".join([
        f"# {title}", "",
        f"This notebook trains the network of a nameclf generator run again in **plain "
        f"PyTorch**: a label-conditioned {model_cfg.cell.upper()} with hidden size "
        f"{model_cfg.hidden_size} on {data.describe}. It imports only torch, pandas, plotly "
        "and the standard library; its last cell prints one JSON line.",
        *[f"\n**Note:** {note}" for note in notes]])
    return build([
        ("md", intro),
        ("code", cells.IMPORTS),
        ("md", "## Settings\nEvery setting of the run that changes its result."),
        ("code", settings_cell(settings)),
        ("md", "## The data\n" + data.markdown + " The app's *Data* page shows the same rows."),
        ("code", data.cell),
        ("md", "Clean the rows as the app does, then check they are the ones the run used."),
        ("code", cells.CLEAN),
        ("md", "## The split\nA seeded 80/20 split; `names` keeps every row of a name on one "
               "side."),
        ("code", cells.SPLIT),
        ("code", cells.VOCAB),
        ("md", "## Shifted targets\nEach name is read after `<sos>` and predicted one "
               "character ahead, ending with `<eos>` (the app's *Padding the targets* page)."),
        ("code", SHIFT),
        ("md", "## The model\nThe label's embedding sits beside every character's, so the "
               "label is in front of the cell at each step."),
        ("code", MODEL),
        ("md", "## The masked loss\nA padded batch has `<pad>` targets after each name; "
               "`ignore_index=0` leaves them out of the loss. Scoring them too would teach "
               "the net to predict padding."),
        ("code", LOSS),
        ("md", "## Training\nThe run's optimizer, learning rate and schedule, batch size and "
               "sampling, clipping, seed and number of steps (the app's *Generate* page)."),
        ("code", LOOP),
        ("md", "## Evaluation\nTest bits per character: every character and `<eos>`."),
        ("code", EVALUATE),
        ("md", "## Curves"),
        ("code", PLOT),
        ("md", "## Sampling by label\nFeed each sampled character back until `<eos>`."),
        ("code", SAMPLE),
        ("md", "## Result\nOne JSON line, to compare with the CLI's `net_bits_per_char`."),
        ("code", RESULT),
    ])
