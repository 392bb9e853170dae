"""The Data page's tables: computed from a dataset alone, so they need no torch.

Kept apart from nameclf.ui.analysis (which scores runs and imports torch): the Data page
imports only this, and its first render does not wait about 2 s for torch to load. pandas
(about 0.7 s) is imported by the tables themselves, which the page draws in expanders only
once they are opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from nameclf.data.dataset import NameDataset
from nameclf.data.splits import leaked_rows, make_split, top1_ceiling

if TYPE_CHECKING:
    import pandas as pd

MAX_TABLE_ROWS = 500  # rows of a sample table sent to the browser


def sample_table(ds: NameDataset, query: str = "", limit: int = MAX_TABLE_ROWS) -> pd.DataFrame:
    """Names and labels containing `query` (case-insensitive), at most `limit` rows."""
    import pandas as pd

    frame = pd.DataFrame({"name": ds.names, "label": ds.labels})
    query = query.strip().lower()
    if query:
        hit = frame["name"].str.lower().str.contains(query, regex=False)
        hit |= frame["label"].str.lower().str.contains(query, regex=False)
        frame = frame[hit]
    return frame.head(limit).reset_index(drop=True)


def conflicts_table(ds: NameDataset) -> pd.DataFrame:
    """Names that appear with more than one label."""
    import pandas as pd

    rows = [(name, ", ".join(labels)) for name, labels in sorted(ds.report.conflicting.items())]
    return pd.DataFrame(rows, columns=["name", "labels"])


@dataclass
class Leak:
    """How much of a split's test set is also in its training set."""

    leaked: int  # test rows whose name is also a training name
    n_test: int  # test rows
    ceiling: float = 1.0  # the highest top-1 any model can reach on them, see top1_ceiling

    @property
    def share(self) -> float:
        return self.leaked / self.n_test if self.n_test else 0.0


def leak(ds: NameDataset, split: str, seed: int) -> Leak:
    """Leakage of one seeded split of a dataset."""
    sp = make_split(ds, split, seed=seed)
    return Leak(leaked_rows(ds, sp), len(sp.test), top1_ceiling(ds, sp.test))
