"""The load report: what a load read, skipped, dropped, repaired and found suspicious."""

from dataclasses import asdict, dataclass, field

MAX_SKIP_EXAMPLES = 5  # how many skipped lines the report quotes
MAX_TEXT_EXAMPLES = 3  # how many suspicious names it quotes


def shown(items, limit: int = 5) -> str:
    """`'a', 'b', … (+3 more)`: a few items quoted, the rest counted."""
    items = list(items)
    text = ", ".join(repr(i) for i in items[:limit])
    return text + (f" … (+{len(items) - limit} more)" if len(items) > limit else "")


@dataclass
class LoadReport:
    """What a load read, skipped and found suspicious."""

    source: str  # where the rows came from
    rows_read: int = 0  # non-blank rows seen
    rows_kept: int = 0  # rows in the dataset
    skipped: list[tuple[int, str]] = field(default_factory=list)  # first (line, reason)s
    n_skipped: int = 0  # all skipped rows
    exact_duplicates: int = 0  # rows repeating an earlier (name, label) pair (all kept)
    conflicting: dict[str, list[str]] = field(default_factory=dict)  # name -> its labels
    class_counts: dict[str, int] = field(default_factory=dict)  # label -> rows kept
    columns: tuple[str, str] | None = None  # (name, label) columns of a CSV
    min_names_per_label: int = 2  # labels with fewer rows were dropped
    dropped_labels: dict[str, int] = field(default_factory=dict)  # label -> rows dropped
    misdecoded: int = 0  # names that look like UTF-8 read as another encoding
    misdecoded_examples: list[str] = field(default_factory=list)
    control_chars: int = 0  # names holding control characters (after any repair)
    control_examples: list[str] = field(default_factory=list)
    fix_text: bool = False  # whether names were repaired with ftfy
    repaired: int = 0  # names that repair changed

    def skip(self, line: int, reason: str) -> None:
        """Record one skipped row."""
        self.n_skipped += 1
        if len(self.skipped) < MAX_SKIP_EXAMPLES:
            self.skipped.append((line, reason))

    @property
    def rows_dropped(self) -> int:
        """Rows of the labels dropped as too rare."""
        return sum(self.dropped_labels.values())

    def summary(self) -> str:
        """One paragraph for a terminal or a web page."""
        parts = [
            f"{self.rows_kept:,} names in {len(self.class_counts)} labels from {self.source}",
            f"{self.n_skipped:,} rows skipped",
            f"{self.exact_duplicates:,} exact duplicates (kept)",
            f"{len(self.conflicting):,} names with conflicting labels",
        ]
        if self.dropped_labels:
            parts.append(self.dropped_line())
        text = "; ".join(parts) + "."
        if self.skipped:
            text += " First skipped: " + "; ".join(f"line {n}: {r}" for n, r in self.skipped)
        if self.text_line():
            text += " " + self.text_line()
        return text

    def dropped_line(self) -> str:
        """Which labels were dropped as too rare, and how many rows went with them."""
        n = len(self.dropped_labels)
        return (f"{n} label{'s' * (n != 1)} with fewer than {self.min_names_per_label} names "
                f"dropped ({self.rows_dropped:,} rows): {shown(self.dropped_labels)}")

    def text_line(self) -> str:
        """Mis-decoded names and control characters, with examples; empty if none."""
        parts = []
        looked = "looked" if self.fix_text else "look"
        if self.fix_text:
            parts.append(f"{self.repaired:,} names repaired with ftfy")
        if self.misdecoded:
            parts.append(f"{self.misdecoded:,} names {looked} mis-decoded (UTF-8 read as another "
                         f"encoding), e.g. {shown(self.misdecoded_examples, MAX_TEXT_EXAMPLES)}")
        if self.control_chars:
            parts.append(f"{self.control_chars:,} names hold control characters, e.g. "
                         f"{shown(self.control_examples, MAX_TEXT_EXAMPLES)}")
        if (self.misdecoded or self.control_chars) and not self.fix_text:
            parts.append("repair them with --fix-text (on Home: Repair mis-decoded text)")
        return "; ".join(parts) + "." if parts else ""

    def lines(self) -> list[str]:
        """A few lines for stderr: rows, skipped, duplicates, conflicts, labels, text."""
        where = f" (columns {self.columns[0]!r}, {self.columns[1]!r})" if self.columns else ""
        out = [f"loaded {self.source}{where}: {self.rows_read:,} rows read, "
               f"{self.rows_kept:,} kept in {len(self.class_counts)} labels"]
        if self.n_skipped:
            first = "; ".join(f"line {n}: {r}" for n, r in self.skipped[:3])
            out.append(f"  {self.n_skipped:,} rows skipped, first: {first}")
        out.append(f"  {self.exact_duplicates:,} exact duplicate rows (kept); "
                   f"{len(self.conflicting):,} names with more than one label")
        if self.dropped_labels:
            out.append("  " + self.dropped_line())
        if self.text_line():
            out.append("  " + self.text_line())
        return out

    def to_dict(self) -> dict:
        """The report as JSON-ready data (conflicting names: only their count and a few)."""
        data = asdict(self)
        data["conflicting"] = dict(list(self.conflicting.items())[:20])
        data["n_conflicting"] = len(self.conflicting)
        data["rows_dropped"] = self.rows_dropped
        return data
