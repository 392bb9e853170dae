"""Load labelled names from any supported source, with a validation report."""

import io
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from nameclf.errors import DataError
from nameclf.vocab import normalize

MAX_BYTES = 20 * 2**20  # refuse data files larger than this
MAX_NAME_LEN = 40  # longer "names" are skipped as not being names
MAX_LABEL_LEN = 40
MAX_SKIP_EXAMPLES = 5  # how many skipped lines the report quotes
DEFAULT_SOURCE = "builtin:faker-surnames"
BUILTINS = ("builtin:faker-surnames", "builtin:pytorch-names")
NAME_COLUMNS = ("name", "surname", "last_name", "lastname", "family_name")
LABEL_COLUMNS = ("label", "language", "lang", "nationality", "country", "class", "origin")


@dataclass
class LoadReport:
    """What a load read, skipped and found suspicious."""

    source: str  # where the rows came from
    rows_read: int = 0  # non-blank rows seen
    rows_kept: int = 0  # rows in the dataset
    skipped: list[tuple[int, str]] = field(default_factory=list)  # first (line, reason)s
    n_skipped: int = 0  # all skipped rows
    exact_duplicates: int = 0  # rows repeating an earlier (name, label) pair
    conflicting: dict[str, list[str]] = field(default_factory=dict)  # name -> its labels
    class_counts: dict[str, int] = field(default_factory=dict)  # label -> rows

    def skip(self, line: int, reason: str) -> None:
        """Record one skipped row."""
        self.n_skipped += 1
        if len(self.skipped) < MAX_SKIP_EXAMPLES:
            self.skipped.append((line, reason))

    def summary(self) -> str:
        """One paragraph for a terminal or a web page."""
        parts = [
            f"{self.rows_kept:,} names in {len(self.class_counts)} labels from {self.source}",
            f"{self.n_skipped:,} rows skipped",
            f"{self.exact_duplicates:,} exact duplicates",
            f"{len(self.conflicting):,} names with conflicting labels",
        ]
        text = "; ".join(parts) + "."
        if self.skipped:
            text += " First skipped: " + "; ".join(f"line {n}: {r}" for n, r in self.skipped)
        return text


@dataclass
class NameDataset:
    """Parallel lists of names and labels, plus how they were loaded."""

    names: list[str]
    labels: list[str]
    report: LoadReport
    ascii_fold: bool = True  # whether names were accent-folded on load

    @property
    def classes(self) -> list[str]:
        """The sorted label set."""
        return sorted(set(self.labels))

    def __len__(self) -> int:
        return len(self.names)


def decode_bytes(raw: bytes) -> str:
    """Decode a text file: BOM-aware UTF-8/UTF-16, else Latin-1; refuse binary."""
    if not raw.strip():
        raise DataError("the file is empty")
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as err:
            raise DataError("the file claims UTF-16 but does not decode as it") from err
    if b"\x00" in raw[:8192]:
        raise DataError("the file looks binary, not text (it contains NUL bytes)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    controls = sum(1 for c in text[:8192] if ord(c) < 32 and c not in "\r\n\t")
    if controls > 0.01 * min(len(text), 8192):
        raise DataError("the file looks binary, not text (many control characters)")
    return text


def parse_lines(text: str, report: LoadReport) -> list[tuple[int, str, str]]:
    """Parse the tutorial's `Name, Label` lines into (line, name, label) rows."""
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        report.rows_read += 1
        fields = line.split(",")
        if len(fields) != 2:
            what = "no ',' separator" if len(fields) == 1 else f"{len(fields)} fields, expected 2"
            report.skip(number, what)
            continue
        rows.append((number, fields[0], fields[1]))
    return rows


def parse_csv(raw: bytes, report: LoadReport) -> list[tuple[int, str, str]]:
    """Parse a CSV with a header naming a name column and a label column."""
    import pandas as pd

    try:
        # blank lines are kept as empty rows so that row i stays on line i + 2
        frame = pd.read_csv(io.StringIO(decode_bytes(raw)), dtype=str, keep_default_na=False,
                            skip_blank_lines=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise DataError(f"the CSV could not be parsed: {str(err).splitlines()[0]}") from err
    columns = {str(c).strip().lower(): c for c in frame.columns}
    name_col = next((columns[c] for c in NAME_COLUMNS if c in columns), None)
    label_col = next((columns[c] for c in LABEL_COLUMNS if c in columns), None)
    if name_col is None or label_col is None:
        raise DataError(
            f"the CSV needs a name column ({', '.join(NAME_COLUMNS)}) and a label column "
            f"({', '.join(LABEL_COLUMNS)}); found {', '.join(map(str, frame.columns))}"
        )
    # header is line 1, so data row i sits on line i + 2
    rows = [(i + 2, n, lab) for i, (n, lab) in enumerate(zip(frame[name_col], frame[label_col]))
            if n.strip() or lab.strip() or frame.iloc[i].str.strip().any()]
    report.rows_read = len(rows)
    return rows


def parse_folder(folder: Path, report: LoadReport) -> list[tuple[int, str, str]]:
    """Read a folder of `<Label>.txt` files, one name per line."""
    files = sorted(folder.glob("*.txt"))
    if not files:
        raise DataError(f"{folder} holds no <Label>.txt files")
    rows = []
    for path in files:
        check_size(path.stat().st_size, str(path))
        for number, line in enumerate(decode_bytes(path.read_bytes()).splitlines(), start=1):
            if line.strip():
                report.rows_read += 1
                rows.append((number, line, path.stem))
    return rows


def check_size(n_bytes: int, what: str, max_bytes: int | None = None) -> None:
    """Refuse files over the size cap (MAX_BYTES, read when called so it can be changed)."""
    max_bytes = MAX_BYTES if max_bytes is None else max_bytes
    if n_bytes > max_bytes:
        raise DataError(f"{what} is {n_bytes / 2**20:.1f} MB; "
                        f"the limit is {max_bytes / 2**20:.0f} MB")


def clean_rows(rows, report: LoadReport, ascii_fold: bool) -> tuple[list[str], list[str]]:
    """Normalize names and labels, skipping rows that are not usable."""
    names, labels = [], []
    for number, raw_name, raw_label in rows:
        name, label = normalize(str(raw_name), ascii_fold), " ".join(str(raw_label).split())
        if not name or not label:
            report.skip(number, "empty name" if not name else "empty label")
        elif len(name) > MAX_NAME_LEN:
            report.skip(number, f"name longer than {MAX_NAME_LEN} characters")
        elif len(label) > MAX_LABEL_LEN:
            report.skip(number, f"label longer than {MAX_LABEL_LEN} characters")
        elif not any(c.isalpha() for c in name):
            report.skip(number, "name has no letters")
        else:
            names.append(name)
            labels.append(label)
    return names, labels


def inspect(names: list[str], labels: list[str], report: LoadReport) -> None:
    """Fill in duplicates, conflicting labels and class counts."""
    seen: set[tuple[str, str]] = set()
    by_name: dict[str, set[str]] = defaultdict(set)
    for name, label in zip(names, labels):
        report.exact_duplicates += (name, label) in seen
        seen.add((name, label))
        by_name[name].add(label)
    report.conflicting = {n: sorted(ls) for n, ls in by_name.items() if len(ls) > 1}
    report.class_counts = dict(Counter(labels).most_common())
    report.rows_kept = len(names)


def validate(report: LoadReport) -> None:
    """Refuse datasets that cannot be split and trained on."""
    counts = report.class_counts
    if not counts:
        why = f" ({report.skipped[0][1]} on line {report.skipped[0][0]})" if report.skipped else ""
        raise DataError(f"no usable `Name, Label` rows in {report.source}{why}")
    if len(counts) < 2:
        raise DataError(f"only one label ({next(iter(counts))!r}); a classifier needs at least 2")
    tiny = [label for label, n in counts.items() if n < 2]
    if tiny:
        shown = ", ".join(repr(t) for t in tiny[:5]) + (" …" if len(tiny) > 5 else "")
        raise DataError(f"{len(tiny)} label(s) have fewer than 2 names: {shown}")


def numbered(pairs: list[tuple[str, str]]) -> list[tuple[int, str, str]]:
    """(name, label) pairs as (1-based row number, name, label) rows."""
    return [(i + 1, name, label) for i, (name, label) in enumerate(pairs)]


def read_raw(raw: bytes, filename: str, report: LoadReport) -> list[tuple[int, str, str]]:
    """Dispatch on the file's name: .zip, .csv, or the tutorial's line format."""
    check_size(len(raw), filename)
    suffix = Path(filename).suffix.lower()
    if suffix == ".zip" or raw[:4] == b"PK\x03\x04":
        from nameclf.builtin import read_names_zip

        try:
            pairs = read_names_zip(io.BytesIO(raw))
        except zipfile.BadZipFile as err:
            raise DataError(f"{filename} is not a valid zip file") from err
        except DataError as err:  # its message names the in-memory buffer; name the file
            raise DataError(f"{filename}: {str(err).split(': ', 1)[-1]}") from err
        report.rows_read = len(pairs)
        return numbered(pairs)
    if suffix == ".csv":
        return parse_csv(raw, report)
    return parse_lines(decode_bytes(raw), report)


def load_bytes(raw: bytes, filename: str, ascii_fold: bool = True) -> NameDataset:
    """Load an uploaded file's bytes; its name picks the format."""
    report = LoadReport(source=filename)
    return build(read_raw(raw, filename, report), report, ascii_fold)


def builtin_pairs(source: str, data_dir: Path, progress=None) -> list[tuple[str, str]]:
    """The (name, label) pairs of a `builtin:` dataset, downloading it if needed."""
    from nameclf import builtin

    if source == "builtin:faker-surnames":
        return builtin.faker_surnames()
    if source == "builtin:pytorch-names":
        return builtin.read_names_zip(builtin.download_pytorch_names(data_dir, progress=progress))
    raise DataError(f"unknown dataset {source!r}; built in: {', '.join(BUILTINS)}")


def load_dataset(source: str | Path = DEFAULT_SOURCE, ascii_fold: bool = True,
                 data_dir: Path = Path("data"), progress=None) -> NameDataset:
    """Load a dataset from a file, folder, zip, CSV or `builtin:` name."""
    source = str(source)
    report = LoadReport(source=source)
    if source.startswith("builtin:"):
        pairs = builtin_pairs(source, Path(data_dir), progress)
        report.rows_read = len(pairs)
        rows = numbered(pairs)
    else:
        path = Path(source)
        if path.is_dir():
            rows = parse_folder(path, report)
        elif path.is_file():
            check_size(path.stat().st_size, source)
            rows = read_raw(path.read_bytes(), path.name, report)
        else:
            raise DataError(f"no such file or folder: {source}")
    return build(rows, report, ascii_fold)


def build(rows, report: LoadReport, ascii_fold: bool) -> NameDataset:
    """Clean, inspect and validate parsed rows into a dataset."""
    names, labels = clean_rows(rows, report, ascii_fold)
    inspect(names, labels, report)
    validate(report)
    return NameDataset(names, labels, report, ascii_fold)
