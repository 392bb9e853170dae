"""Load labelled names from any supported source, with a validation report."""

import io
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from nameclf.data import textfix
from nameclf.data.columns import LABEL_COLUMNS, NAME_COLUMNS, pick_columns
from nameclf.data.report import MAX_SKIP_EXAMPLES, LoadReport
from nameclf.data.vocab import normalize
from nameclf.errors import DataError

__all__ = ["LABEL_COLUMNS", "MAX_SKIP_EXAMPLES", "NAME_COLUMNS", "LoadOptions", "LoadReport",
           "NameDataset"]

MAX_BYTES = 20 * 2**20  # refuse data files larger than this
MAX_NAME_LEN = 40  # longer "names" are skipped as not being names
MAX_LABEL_LEN = 40
DEFAULT_SOURCE = "builtin:faker-surnames"
BUILTINS = ("builtin:faker-surnames", "builtin:pytorch-names")


@dataclass
class LoadOptions:
    """How to read a file: which columns, which labels to keep, whether to repair text."""

    name_column: str | None = None  # a CSV's name column; None: recognised from the header
    label_column: str | None = None  # a CSV's label column; None: recognised from the header
    min_names_per_label: int = 2  # labels with fewer rows are dropped (and reported)
    fix_text: bool = False  # repair mis-decoded names with ftfy (nameclf.data.textfix)


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


def parse_csv(raw: bytes, report: LoadReport, options: LoadOptions,
              sep: str = ",") -> list[tuple[int, str, str]]:
    """Parse a CSV (or TSV) with a header; the name and label columns chosen or recognised."""
    import pandas as pd

    try:
        # blank lines are kept as empty rows so that row i stays on line i + 2
        frame = pd.read_csv(io.StringIO(decode_bytes(raw)), dtype=str, keep_default_na=False,
                            skip_blank_lines=False, sep=sep)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise DataError(f"the CSV could not be parsed: {str(err).splitlines()[0]}") from err
    frame.columns = [str(c).strip() for c in frame.columns]
    if len(set(frame.columns)) != len(frame.columns):  # pandas renames repeats; keep firsts
        frame = frame.loc[:, ~frame.columns.duplicated()]
    name_col, label_col = pick_columns(list(frame.columns), options.name_column,
                                       options.label_column)
    report.columns = (name_col, label_col)
    # header is line 1, so data row i sits on line i + 2
    blank = ~frame.apply(lambda col: col.str.strip().astype(bool)).any(axis=1)
    rows = [(i + 2, n, lab) for i, (n, lab, empty)
            in enumerate(zip(frame[name_col], frame[label_col], blank)) if not empty]
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


def clean_rows(rows, report: LoadReport, ascii_fold: bool,
               fix_text: bool = False) -> tuple[list[str], list[str]]:
    """Normalize names and labels, skipping rows that are not usable; note odd text."""
    names, labels = [], []
    report.fix_text = fix_text
    for number, raw_name, raw_label in rows:
        raw_name = str(raw_name)
        if textfix.looks_misdecoded(raw_name):
            report.misdecoded += 1
            if len(report.misdecoded_examples) < textfix.MAX_EXAMPLES:
                report.misdecoded_examples.append(raw_name.strip())
        if fix_text:
            fixed = textfix.repair(raw_name)
            report.repaired += fixed != raw_name
            raw_name = fixed
        name, label = normalize(raw_name, ascii_fold), " ".join(str(raw_label).split())
        if not name or not label:
            report.skip(number, "empty name" if not name else "empty label")
        elif len(name) > MAX_NAME_LEN:
            report.skip(number, f"name longer than {MAX_NAME_LEN} characters")
        elif len(label) > MAX_LABEL_LEN:
            report.skip(number, f"label longer than {MAX_LABEL_LEN} characters")
        elif not any(c.isalpha() for c in name):
            report.skip(number, "name has no letters")
        else:
            if textfix.has_control(name):
                report.control_chars += 1
                if len(report.control_examples) < textfix.MAX_EXAMPLES:
                    report.control_examples.append(name)
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


def drop_rare(names: list[str], labels: list[str], report: LoadReport,
              min_names: int) -> tuple[list[str], list[str]]:
    """Drop the rows of labels with fewer than `min_names` rows; the report says which."""
    report.min_names_per_label = min_names
    counts = Counter(labels)
    rare = {label: n for label, n in sorted(counts.items()) if n < min_names}
    if not rare:
        return names, labels
    report.dropped_labels = rare
    kept = [(n, lab) for n, lab in zip(names, labels) if lab not in rare]
    return [n for n, _ in kept], [lab for _, lab in kept]


def validate(report: LoadReport) -> None:
    """Refuse datasets that cannot be split and trained on."""
    counts = report.class_counts
    if not counts and not report.dropped_labels:
        why = f" ({report.skipped[0][1]} on line {report.skipped[0][0]})" if report.skipped else ""
        raise DataError(f"no usable `Name, Label` rows in {report.source}{why}")
    if len(counts) < 2:
        what = f"only one label ({next(iter(counts))!r})" if counts else "no label"
        dropped = f" after {report.dropped_line()}" if report.dropped_labels else ""
        raise DataError(f"{what} left{dropped}; a classifier needs at least 2")


def numbered(pairs: list[tuple[str, str]]) -> list[tuple[int, str, str]]:
    """(name, label) pairs as (1-based row number, name, label) rows."""
    return [(i + 1, name, label) for i, (name, label) in enumerate(pairs)]


def read_raw(raw: bytes, filename: str, report: LoadReport,
             options: LoadOptions | None = None) -> list[tuple[int, str, str]]:
    """Dispatch on the file's name: .zip, .csv, .tsv, or the tutorial's line format."""
    options = options or LoadOptions()
    check_size(len(raw), filename)
    suffix = Path(filename).suffix.lower()
    if suffix == ".zip" or raw[:4] == b"PK\x03\x04":
        from nameclf.data.builtin import read_names_zip

        try:
            pairs = read_names_zip(io.BytesIO(raw))
        except zipfile.BadZipFile as err:
            raise DataError(f"{filename} is not a valid zip file") from err
        except DataError as err:  # its message names the in-memory buffer; name the file
            raise DataError(f"{filename}: {str(err).split(': ', 1)[-1]}") from err
        report.rows_read = len(pairs)
        return numbered(pairs)
    if suffix in (".csv", ".tsv"):
        return parse_csv(raw, report, options, sep="\t" if suffix == ".tsv" else ",")
    return parse_lines(decode_bytes(raw), report)


def load_bytes(raw: bytes, filename: str, ascii_fold: bool = True,
               options: LoadOptions | None = None) -> NameDataset:
    """Load an uploaded file's bytes; its name picks the format."""
    report = LoadReport(source=filename)
    return build(read_raw(raw, filename, report, options), report, ascii_fold, options)


def builtin_pairs(source: str, data_dir: Path, progress=None) -> list[tuple[str, str]]:
    """The (name, label) pairs of a `builtin:` dataset, downloading it if needed."""
    from nameclf.data import builtin

    if source == "builtin:faker-surnames":
        return builtin.faker_surnames()
    if source == "builtin:pytorch-names":
        return builtin.read_names_zip(builtin.download_pytorch_names(data_dir, progress=progress))
    raise DataError(f"unknown dataset {source!r}; built in: {', '.join(BUILTINS)}")


def load_dataset(source: str | Path = DEFAULT_SOURCE, ascii_fold: bool = True,
                 data_dir: Path = Path("data"), progress=None,
                 options: LoadOptions | None = None) -> NameDataset:
    """Load a dataset from a file, folder, zip, CSV or `builtin:` name."""
    options = options or LoadOptions()
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
            rows = read_raw(path.read_bytes(), path.name, report, options)
        else:
            raise DataError(f"no such file or folder: {source}")
    return build(rows, report, ascii_fold, options)


def build(rows, report: LoadReport, ascii_fold: bool,
          options: LoadOptions | None = None) -> NameDataset:
    """Clean, inspect, drop rare labels and validate parsed rows into a dataset."""
    options = options or LoadOptions()
    if options.min_names_per_label < 1:
        raise DataError("the minimum number of names per label must be at least 1")
    if (options.name_column or options.label_column) and report.columns is None:
        raise DataError(f"--name-column and --label-column apply to CSV files (with a header); "
                        f"{report.source} is not read as one (a .csv or .tsv file is)")
    names, labels = clean_rows(rows, report, ascii_fold, options.fix_text)
    names, labels = drop_rare(names, labels, report, options.min_names_per_label)
    inspect(names, labels, report)
    validate(report)
    return NameDataset(names, labels, report, ascii_fold)
