"""Tables the pages show, computed from datasets and runs (no Streamlit here)."""

from dataclasses import dataclass, field

import pandas as pd
import torch

from nameclf.classify.evaluate import Metrics, metrics_from, name_top1
from nameclf.classify.mixture import scored
from nameclf.classify.pipeline import Run, check_compatible, encode_for
from nameclf.data.dataset import NameDataset
from nameclf.data.splits import make_split, shared_rows, top1_ceiling

# settings-table columns that mean nothing for the n-gram baseline
RECURRENT_ONLY = ("hidden", "layers", "bidir", "emb", "dropout", "ngram_weight", "optimizer",
                  "lr", "batch", "batching")


def top3_text(probs: torch.Tensor, classes: list[str]) -> str:
    """`German 61% · Dutch 20% · Danish 9%` for one row of probabilities."""
    top = probs.topk(min(3, len(classes)))
    return " · ".join(f"{classes[i]} {p:.0%}" for p, i in zip(top.values.tolist(),
                                                              top.indices.tolist(), strict=False))


def misclassified(logp: torch.Tensor, y: torch.Tensor, names: list[str], classes: list[str],
                  limit: int = 200) -> pd.DataFrame:
    """Wrongly predicted names, most confident mistakes first, with their top-3."""
    probs = logp.exp()  # (N, C)
    pred = probs.argmax(dim=1)
    wrong = (pred != y).nonzero().flatten()
    order = wrong[probs[wrong, pred[wrong]].argsort(descending=True)][:limit]
    return pd.DataFrame({
        "name": [names[i] for i in order.tolist()],
        "true": [classes[int(y[i])] for i in order.tolist()],
        "predicted": [classes[int(pred[i])] for i in order.tolist()],
        "top-3": [top3_text(probs[i], classes) for i in order.tolist()],
    })


def test_table(logp: torch.Tensor, y: torch.Tensor, names: list[str],
               classes: list[str]) -> pd.DataFrame:
    """Every test row: its name, true and predicted label, and both labels' probabilities."""
    probs = logp.exp()  # (N, C)
    pred = probs.argmax(dim=1)
    rows = torch.arange(len(y))
    return pd.DataFrame({
        "name": names,
        "true": [classes[int(i)] for i in y.tolist()],
        "predicted": [classes[int(i)] for i in pred.tolist()],
        "p(predicted)": probs[rows, pred].tolist(),
        "p(true)": probs[rows, y].tolist(),
        "top-3": [top3_text(p, classes) for p in probs],
    })


def cell_names(table: pd.DataFrame, true: str, predicted: str, limit: int = 100) -> pd.DataFrame:
    """The test names of one confusion-matrix cell, the most confident first."""
    cell = table[(table["true"] == true) & (table["predicted"] == predicted)]
    return cell.sort_values("p(predicted)", ascending=False).head(limit).reset_index(drop=True)


@dataclass
class Evaluation:
    """A run scored on its test split."""

    metrics: Metrics
    mistakes: pd.DataFrame  # see misclassified()
    n_test: int
    ceiling: float = 1.0  # the best top-1 any model can reach here, see top1_ceiling
    shared: int = 0  # test rows whose name the test split also holds under another label
    parts_top1: dict = field(default_factory=dict)  # a mixture's parts alone: cell -> top-1
    top1_names: float | None = None  # top-1 per distinct test name, see evaluate.name_top1
    table: pd.DataFrame | None = None  # every test row, see test_table (the confusion cells)

    @property
    def ceiling_note(self) -> str:
        """Why top-1 cannot reach 100% here, if names with two labels say so."""
        if not self.shared:
            return ""
        return (f"{self.shared:,} of them share their name with a test row of another label; a "
                "model gives one answer per name, so no model can score above "
                f"{self.ceiling:.1%} top-1 here.")


def evaluate_run(run: Run, ds: NameDataset, split: str, seed: int) -> Evaluation:
    """Rebuild the run's test split from its data and score every test name."""
    check_compatible(run, ds)
    rows = make_split(ds, split, seed=seed).test
    device = next(run.model.parameters()).device
    enc = encode_for(run, ds, rows, device)
    y = enc.labels.cpu()
    logp, parts_top1 = scored(run.model, enc)  # (N, C); a mixture's parts alone
    names = [ds.names[i] for i in rows]
    mistakes = misclassified(logp, y, names, run.classes)
    return Evaluation(metrics_from(logp, y, run.classes), mistakes, len(rows),
                      top1_ceiling(ds, rows), shared_rows(ds, rows), parts_top1,
                      name_top1(logp, y, names), test_table(logp, y, names, run.classes))


def settings_row(run_id: str, run: Run) -> dict:
    """One row of the Compare table: hyperparameters and final metrics (None: does not apply)."""
    m, t, info = run.model_config, run.train_config, run.info
    seconds, speed = info.get("train_seconds"), info.get("names_per_second")
    row = {
        "run": run_id, "status": run.status,
        "top1": run.metrics.get("top1"), "top2": run.metrics.get("top2"),
        "top3": run.metrics.get("top3"), "macro_f1": run.metrics.get("macro_f1"),
        "cell": m.cell, "hidden": m.hidden_size,
        "layers": m.num_layers, "bidir": m.bidirectional, "emb": m.embedding_dim,
        "dropout": m.dropout, "ngram_weight": m.ngram_weight, "lexicon": m.lexicon,
        "optimizer": t.optimizer,
        "lr": t.lr, "batch": t.batch_size,
        "batching": t.batching, "steps": info.get("steps"), "split": info.get("split"),
        "seed": t.seed, "dataset": info.get("dataset"),
        "train s": None if seconds is None else round(seconds, 1),
        "names/s": None if not speed else round(speed),
    }
    if m.cell == "ngram":  # one scikit-learn fit: no recurrent or optimizer settings apply
        row.update(dict.fromkeys(RECURRENT_ONLY))
    return row


# how the Compare table shows each kind of column (an empty cell: does not apply)
PERCENT = ("top1", "top2", "top3", "macro_f1")  # fractions, shown as 61.2%
INTEGER = ("hidden", "layers", "emb", "batch", "steps", "seed", "names/s")
DECIMAL = {"train s": "{:.1f}", "dropout": "{:g}", "ngram_weight": "{:g}", "lr": "{:g}"}
YES_NO = ("bidir", "lexicon")


def settings_table(rows: list[dict]) -> pd.DataFrame:
    """settings_row()s with a type per column: whole numbers as nullable integers (a setting
    that does not apply is missing, not NaN or None), metrics in percent, flags as yes/no."""
    table = pd.DataFrame(rows)
    for col in table.columns:
        if col in PERCENT:
            table[col] = pd.to_numeric(table[col], errors="coerce").mul(100).round(1)
        elif col in INTEGER:
            table[col] = pd.to_numeric(table[col], errors="coerce").round().astype("Int64")
        elif col in DECIMAL:
            table[col] = pd.to_numeric(table[col], errors="coerce").astype("Float64")
        elif col in YES_NO:
            table[col] = table[col].map({True: "yes", False: "no"}).astype("string")
        else:
            table[col] = table[col].astype("string")
    return table


def settings_shown(rows: list[dict]) -> pd.DataFrame:
    """settings_table() as people read it, cell by cell: 1,292 and 15.1 and 61.2%, and an
    empty cell where a setting does not apply (st.dataframe draws any missing value as
    "None", whatever a Styler says, so the cells are text; NUMERIC says which to right-align)."""
    table = settings_table(rows)
    formats = {c: "{:.1f}%" for c in PERCENT} | {c: "{:,}" for c in INTEGER} | DECIMAL
    shown = table.astype(object).where(table.notna(), "")
    for col, fmt in formats.items():
        if col in shown.columns:
            shown[col] = [fmt.format(v) if v != "" else "" for v in shown[col]]
    return shown.astype(str)


NUMERIC = (*PERCENT, *INTEGER, *DECIMAL)  # right-aligned, as numbers are
