"""The classifier's notebook: cells that train a run's model again in plain PyTorch.

`classifier_notebook` is pure: settings and data in, an nbformat notebook out. The code cells
import torch, pandas, plotly and the standard library, never nameclf.
"""

from dataclasses import asdict, replace

from nameclf.classify.config import ModelConfig, TrainConfig
from nameclf.data.dataset import NameDataset
from nameclf.errors import ConfigError
from nameclf.lab import notebook_data as cells
from nameclf.lab.notebook import DataSpec, build, data_spec, settings_cell

ENCODE = """\
lengths = torch.tensor([len(n) for n in names])  # (N,)
idx = torch.zeros(len(names), int(lengths.max()), dtype=torch.long)  # (N, T_max), 0 = <pad>
for i, name in enumerate(names):
    idx[i, : len(name)] = torch.tensor(encode(name))
label_id = {c: i for i, c in enumerate(classes)}
y = torch.tensor([label_id[lab] for lab in labels])  # (N,)
train_idx, test_idx = torch.tensor(train_rows), torch.tensor(test_rows)
print(f"{len(chars) + 2} tokens (with <pad> and <unk>), {len(classes)} labels")"""

PACK = """\
def take(sel):
    \"\"\"Rows `sel` as time-major indices (T, B) cut at their longest name, lengths, labels.\"\"\"
    n = lengths[sel]  # (B,)
    return idx[sel, : int(n.max())].T, n, y[sel]


demo, demo_lengths, _ = take(train_idx[:4])
print([names[i] for i in train_rows[:4]])
print(demo.T)  # (B, T): each name's indices, then 0 = <pad>
packed = pack_padded_sequence(demo, demo_lengths, enforce_sorted=False)
print("packed data:", packed.data.tolist())
print("batch_sizes:", packed.batch_sizes.tolist())  # names still running at each time step"""

MODEL = """\
CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


class NameClassifier(nn.Module):
    \"\"\"Characters in, log-probabilities over labels out.\"\"\"

    def __init__(self, vocab_size, n_classes, cell, embedding_dim, hidden_size, num_layers,
                 bidirectional, dropout):
        super().__init__()
        if embedding_dim:
            self.embed = nn.Embedding(vocab_size, embedding_dim, padding_idx=0)
        else:  # one-hot rows, the <pad> row all zeros
            self.embed = None
            table = torch.eye(vocab_size)
            table[0] = 0.0
            self.register_buffer("one_hot", table)
        self.rnn = CELLS[cell](embedding_dim or vocab_size, hidden_size, num_layers,
                               dropout=dropout if num_layers > 1 else 0.0,
                               bidirectional=bidirectional)
        self.drop = nn.Dropout(dropout)
        self.dirs = 2 if bidirectional else 1
        self.h2o = nn.Linear(self.dirs * hidden_size, n_classes)

    def forward(self, idx, lengths):  # idx: (T, B)
        x = self.embed(idx) if self.embed is not None else self.one_hot[idx]  # (T, B, D)
        packed = pack_padded_sequence(x, lengths, enforce_sorted=False)
        _, h_n = self.rnn(packed)  # each name's state after its own last character
        h_n = h_n[0] if isinstance(h_n, tuple) else h_n  # the LSTM's (h, c): keep h
        h_n = h_n.view(self.rnn.num_layers, self.dirs, *h_n.shape[1:])[-1]  # (dirs, B, H)
        h = self.drop(torch.cat(list(h_n), dim=1))  # (B, dirs * H)
        return F.log_softmax(self.h2o(h), dim=1)  # (B, C)


torch.manual_seed(SETTINGS["train"]["seed"])
model = NameClassifier(len(chars) + 2, len(classes), **SETTINGS["model"])
print(model, f"{sum(p.numel() for p in model.parameters()):,} parameters", sep="\\n")"""

LOOP = """\
T = SETTINGS["train"]


""" + cells.BATCHES_AND_SCHEDULE + """@torch.no_grad()
def log_probs(rows):
    \"\"\"Log-probabilities (N, C) of the rows `rows`, 512 names a pass, in eval mode.\"\"\"
    model.eval()
    out = [model(*take(sel)[:2]) for sel in rows.split(512)]
    model.train()
    return torch.cat(out)


def topk(logp, target, k):
    return float((logp.topk(k, dim=1).indices == target[:, None]).any(dim=1).float().mean())


train_lengths, train_y = lengths[train_idx], y[train_idx]
n_train = len(train_idx)
if T["steps"]:
    n_steps = T["steps"]
else:
    seen_names = T["epochs"] * n_train  # at most max_names names in all, when that is set
    seen_names = min(seen_names, T["max_names"]) if T["max_names"] else seen_names
    n_steps = max(1, math.ceil(seen_names / T["batch_size"]))
weight = None
if T["class_weighting"]:  # inverse frequency, averaging 1 over the training rows
    counts = torch.bincount(train_y, minlength=len(classes)).float().clamp(min=1)
    weight = n_train / (len(classes) * counts)
if T["optimizer"] == "sgd":
    optimizer = torch.optim.SGD(model.parameters(), lr=T["lr"], momentum=T["momentum"],
                                weight_decay=T["weight_decay"])
else:
    opt = torch.optim.Adam if T["optimizer"] == "adam" else torch.optim.AdamW
    optimizer = opt(model.parameters(), lr=T["lr"], weight_decay=T["weight_decay"])
torch.manual_seed(T["seed"])
gen = torch.Generator().manual_seed(T["seed"])
batches = sample_batches(train_lengths, T["batch_size"], T["sampling"], gen)
params = list(model.parameters())
good = [p.detach().clone() for p in params]  # the last weights that gave a sane loss
limit = 10 * math.log(len(classes))  # a running loss 10x that of guessing: it blew up
curves = {"step": [], "loss": [], "eval_step": [], "top1": [], "top2": []}
status, running, seconds, step, start = "completed", None, 0.0, 0, time.perf_counter()
model.train()
while step < min(n_steps, T.get("stop_after") or n_steps):
    if T["time_budget"] and time.perf_counter() - start >= T["time_budget"]:
        status = "time budget reached"
        break
    t0 = time.perf_counter()
    for group in optimizer.param_groups:
        group["lr"] = lr_at(step, n_steps)
    x, n, target = take(train_idx[next(batches)])
    optimizer.zero_grad(set_to_none=True)
    logp = model(x, n)  # (B, C)
    loss = -logp.gather(1, target[:, None]).squeeze(1)  # (B,)
    if T["label_smoothing"]:
        loss = (1 - T["label_smoothing"]) * loss - T["label_smoothing"] * logp.mean(dim=1)
    if weight is not None:
        loss = (loss * weight[target]).sum() / weight[target].sum()
    else:
        loss = loss.mean()
    loss.backward()
    value = float(loss.detach())
    running = value if running is None else 0.98 * running + 0.02 * value
    if not math.isfinite(running) or running > limit:
        with torch.no_grad():
            for p, g in zip(params, good):
                p.copy_(g)
        status = "diverged: lower the learning rate"
        break
    if value <= limit:
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
    last = step in (n_steps, T.get("stop_after"))
    if (T["eval_every"] and step % T["eval_every"] == 0) or last:
        logp_test = log_probs(test_idx)
        curves["eval_step"].append(step)
        curves["top1"].append(topk(logp_test, y[test_idx], 1))
        curves["top2"].append(topk(logp_test, y[test_idx], 2))
model.eval()
print(f"{status}: {step} steps in {seconds:.1f} s of training")"""

EVALUATE = """\
logp_test = log_probs(test_idx)
top1, top2 = topk(logp_test, y[test_idx], 1), topk(logp_test, y[test_idx], 2)
print(f"test top-1 {top1:.3f}, top-2 {top2:.3f} on {len(test_rows):,} names")"""

PLOT = """\
import plotly.graph_objects as go
from plotly.subplots import make_subplots

fig = make_subplots(rows=1, cols=2, subplot_titles=("running training loss", "test accuracy"))
fig.add_scatter(x=curves["step"], y=curves["loss"], name="loss", row=1, col=1)
fig.add_scatter(x=curves["eval_step"], y=curves["top1"], name="top-1", row=1, col=2)
fig.add_scatter(x=curves["eval_step"], y=curves["top2"], name="top-2", row=1, col=2)
fig.update_xaxes(title_text="step")
fig.update_layout(height=350)
fig.show()"""

PREDICT = """\
@torch.no_grad()
def predict(name, k=3):
    \"\"\"The k most likely labels of one name, with their probabilities.\"\"\"
    name = normalize(name)
    probs = model(torch.tensor(encode(name))[:, None], torch.tensor([len(name)])).exp()[0]
    top = probs.topk(min(k, len(classes)))
    return [(classes[i], round(float(p), 3)) for p, i in zip(top.values, top.indices)]


for name in SETTINGS["examples"]:
    print(name, predict(name))"""

RESULT = """\
print(json.dumps({"top1": round(top1, 4), "top2": round(top2, 4), "steps": step,
                  "seconds": round(seconds, 2)}))"""


def intro(title: str, data: DataSpec, model_cfg: ModelConfig, notes: list[str]) -> str:
    """The first markdown cell: what the notebook reproduces, and what it changes."""
    lines = [
        f"# {title}",
        "",
        f"This notebook trains the classifier of a nameclf run again in **plain PyTorch**, with "
        f"the run's settings: a {model_cfg.cell.upper()} with hidden size "
        f"{model_cfg.hidden_size} on {data.describe}. It imports only torch, pandas, plotly and "
        "the standard library. Run it top to bottom; its last cell prints one JSON line.",
        "",
        "It uses PyTorch's own `nn." + {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}[model_cfg.cell]
        + "`. On a CPU the app trains a faster hand-written cell with the same weights and the "
        "same maths, so the numbers here match the app's closely, not to the last digit.",
    ]
    lines += [f"\n**Note:** {note}" for note in notes]
    return "\n".join(lines)


def classifier_notebook(model_cfg: ModelConfig, train_cfg: TrainConfig, split: str,
                        data: DataSpec, split_seed: int | None = None,
                        title: str = "A nameclf run in plain PyTorch",
                        examples: tuple[str, ...] = ("Schmidt", "Nakamura", "Kowalski"),
                        stop_after: int = 0):
    """The notebook that trains this classifier run again without nameclf; with `stop_after`,
    it stops after that many steps, as a run cut short by its time budget or Stop did."""
    check_exportable(model_cfg)
    notes = []
    if stop_after:
        notes.append(f"the run ended after {stop_after:,} steps (its time budget, or Stop). "
                     "This notebook stops there too, with the learning-rate schedule planned "
                     "for the whole run, and no time budget: it ends the same on any machine.")
        train_cfg = replace(train_cfg, time_budget=0.0)
    if model_cfg.ngram_weight:
        notes.append(f"the run mixed the n-gram baseline into its answers (weight "
                     f"{model_cfg.ngram_weight:g}). This notebook exports the recurrent part "
                     "alone, so its accuracy is that network's, not the mixture's.")
    if train_cfg.batching != "packed":
        notes.append(f"the run read its batches {train_cfg.batching}; this one packs them. "
                     "Same model, same result, different speed (the app's *Speed race*).")
    model = {k: v for k, v in asdict(model_cfg).items()
             if k in ("cell", "embedding_dim", "hidden_size", "num_layers", "bidirectional",
                      "dropout")}
    train = {k: v for k, v in asdict(train_cfg).items()
             if k not in ("batching", "kernel")}  # speed only: the same maths
    if stop_after:
        train["stop_after"] = stop_after
    seed = train_cfg.seed if split_seed is None else split_seed
    settings = dict(data.settings(), split=split, seed=seed, model=model, train=train,
                    examples=list(examples))
    return build([
        ("md", intro(title, data, model_cfg, notes)),
        ("code", cells.IMPORTS),
        ("md", "## Settings\nEvery setting of the run that changes its result."),
        ("code", settings_cell(settings)),
        ("md", "## The data\n" + data.markdown + " The app's *Data* page shows the same rows."),
        ("code", data.cell),
        ("md", "Clean the rows as the app does (trim, fold accents, drop labels with too few "
               "names), then check they are exactly the rows the run trained on."),
        ("code", cells.CLEAN),
        ("md", "## The split\nA seeded 80/20 split. `names` keeps every row of a name on one "
               "side, so no test name was seen in training; `rows` is the tutorial's split."),
        ("code", cells.SPLIT),
        ("md", "## Encoding\nEach character becomes an index: 0 is padding, 1 an unseen "
               "character. The labels are sorted."),
        ("code", cells.VOCAB),
        ("code", ENCODE),
        ("md", "## Padding and packing\nA batch is padded to its longest name; "
               "`pack_padded_sequence` then keeps only the real characters, and `batch_sizes` "
               "says how many names are still running at each step (the app's *Padding and "
               "packing* page walks through it)."),
        ("code", PACK),
        ("md", "## The model\nPyTorch's own cell reads the packed batch; the final hidden "
               "state of each name feeds a linear layer."),
        ("code", MODEL),
        ("md", "## Training\nThe run's optimizer, learning rate and schedule, batch size and "
               "sampling, clipping, seed and number of steps (the app's *Train* page)."),
        ("code", LOOP),
        ("md", "## Evaluation\nTop-1 and top-2 accuracy on the whole test split (the app's "
               "*Evaluate* page)."),
        ("code", EVALUATE),
        ("md", "## Curves"),
        ("code", PLOT),
        ("md", "## Predict\nTry any surname (the app's *Predict* page)."),
        ("code", PREDICT),
        ("md", "## Result\nOne JSON line, to compare with the app's or the CLI's run."),
        ("code", RESULT),
    ])


def check_exportable(model_cfg: ModelConfig, train_cfg: TrainConfig | None = None,
                     info: dict | None = None) -> None:
    """Raise a ConfigError that says in one line why a run cannot be exported, if it cannot:
    a pure n-gram run, or (with `info`) a run that did not record its settings and data."""
    if model_cfg.cell == "ngram":
        raise ConfigError("a pure n-gram run cannot be exported as a notebook: it has no "
                          "recurrent network; export an RNN, LSTM or GRU run")
    if info is None:
        return
    missing = [k for k in ("data", "split", "seed") if k not in info]
    if train_cfg is None or missing:
        raise ConfigError("this run has no record of its training settings "
                          f"({', '.join(missing) or 'train_config'} missing), so no notebook "
                          "can reproduce it; train it here, then export it")


def run_notebook(model_cfg: ModelConfig, train_cfg: TrainConfig | None, info: dict,
                 ds: NameDataset):
    """(notebook, its DataSpec) of a finished run, from its settings, its info and the dataset
    it trained on; a ConfigError says in one line why a run cannot be exported."""
    check_exportable(model_cfg, train_cfg, info)
    spec = data_spec(ds, str(info["data"]).removeprefix("upload:"))
    cut = info.get("status", "completed") != "completed" and not str(
        info.get("status", "")).startswith("diverged")
    return classifier_notebook(model_cfg, train_cfg, str(info["split"]), spec, int(info["seed"]),
                               stop_after=int(info.get("steps", 0)) if cut else 0), spec
