"""Home page pieces: choosing the dataset (built in, downloaded or uploaded) and its report.

Nothing here imports torch or pandas: Home is the first page a visitor sees, and it needs
neither (torch starts loading in the background once Home is drawn).
"""

import streamlit as st

from nameclf.data.columns import ColumnError
from nameclf.data.dataset import DEFAULT_SOURCE, LoadOptions, LoadReport, load_bytes
from nameclf.errors import DataError
from nameclf.ui.cache import current_dataset, download_builtin, is_downloaded
from nameclf.ui.state import dataset_name
from nameclf.ui.train_form import use_preset
from nameclf.ui.views import plain

CHOICES = {
    DEFAULT_SOURCE: "Faker surnames (built in, offline)",
    "builtin:pytorch-names": "PyTorch tutorial names (download, about 3 MB)",
    "upload": "Your own file",
}


def table(header: tuple[str, str], rows) -> str:
    """A markdown table with every cell escaped: a label shows as typed, never as markup.

    Home draws its small tables this way, not with st.dataframe, which would load pandas
    (half a second) on the first page a visitor sees.
    """
    def cell(value) -> str:
        return f"{value:,}" if isinstance(value, int) else plain(" ".join(str(value).split()))

    lines = [f"| {header[0]} | {header[1]} |", "| :-- | :-- |"]
    return "\n".join(lines + [f"| {cell(a)} | {cell(b)} |" for a, b in rows])


def report_view(report: LoadReport) -> None:
    """A load's validation report: summary, skipped lines, class counts."""
    st.info(plain(report.summary()))  # names the visitor's file, which may hold markdown
    if report.columns:
        st.caption(plain(f"Names from column {report.columns[0]!r}, labels from "
                         f"{report.columns[1]!r}."))
    if report.skipped:
        more = report.n_skipped - len(report.skipped)
        st.caption("Skipped lines" + (f" (first {len(report.skipped)} of {report.n_skipped})"
                                      if more else ""))
        st.markdown(table(("line", "reason"), report.skipped))
    with st.expander(f"Names per label ({len(report.class_counts)} labels)"):
        counts = list(report.class_counts.items())
        with st.container(height=min(400, 36 * len(counts) + 60), border=False):
            st.markdown(table(("label", "names"), counts))


def _download() -> None:
    """Download the PyTorch names with a progress bar; a clear message when offline."""
    bar = st.progress(0.0, text="Downloading…")

    def progress(done: int, total: int | None) -> None:
        share = done / total if total else 0.0
        bar.progress(min(1.0, share), text=f"Downloading… {done / 2**20:.1f} MB")

    try:
        download_builtin("builtin:pytorch-names", progress)
    except DataError as err:
        bar.empty()
        st.error(f"The download did not work, so your dataset is unchanged. {err}")
        return
    bar.progress(1.0, text="Downloaded.")
    st.session_state["dataset_source"] = "builtin:pytorch-names"


def _upload_options(file_id: str) -> LoadOptions:
    """The visitor's load choices: repair, rare labels, and columns picked for this file."""
    ss = st.session_state
    left, right = st.columns(2)
    fix = left.checkbox("Repair mis-decoded text (ftfy)", key="home_fix_text",
                        help="Names such as `vranÄ\\x8diÄ\\x87` (UTF-8 read as Latin-1) are "
                             "repaired and control characters removed; the report counts them.")
    least = right.number_input("Drop labels with fewer names than", 1, 10_000, 2,
                               key="home_min_names")
    picked = ss.get("upload_columns")  # (file id, (name column, label column))
    columns = picked[1] if picked and picked[0] == file_id else (None, None)
    return LoadOptions(columns[0], columns[1], int(least), bool(fix))


def column_picker(file_id: str, columns: list[str], start: tuple[str, str]) -> None:
    """Two selectboxes of the file's columns; the choice is kept with the upload."""
    ss = st.session_state
    st.caption("Which columns hold the names and the labels?")
    left, right = st.columns(2)
    name = left.selectbox("Name column", columns, index=columns.index(start[0]),
                          key="home_name_column")
    label = right.selectbox("Label column", columns, index=columns.index(start[1]),
                            key="home_label_column")
    if st.button("Load with these columns", key="home_load_columns"):
        ss["upload_columns"] = (file_id, (name, label))
        st.rerun()


def _upload() -> None:
    """Read an uploaded file; a bad one is refused and nothing is lost."""
    ss = st.session_state
    file = st.file_uploader("A `Name, Label` .txt, a CSV with name and label columns, or a zip "
                            "of `<Label>.txt` files", type=["txt", "csv", "tsv", "zip"],
                            key="home_upload")
    if file is None:
        return
    options = _upload_options(file.file_id)
    key = (file.file_id, options)
    if ss.get("upload_key") != key:
        ss["upload_key"], ss["upload_error"], ss["upload_file_columns"] = key, "", None
        try:
            ss["upload"] = (file.name, load_bytes(file.getvalue(), file.name, options=options))
            ss["dataset_source"] = "upload"
        except ColumnError as err:  # the app's own way to say which: the picker below
            ss["upload_error"] = f"{file.name} was not loaded: {err.what}; pick them below."
            ss["upload_file_columns"] = (err.columns, err.default_columns())
        except DataError as err:
            ss["upload_error"] = f"{file.name} was not loaded: {str(err).rstrip('.')}."
    if ss.get("upload_error"):
        st.error(plain(ss["upload_error"] + " Your dataset is unchanged."))
    if ss.get("upload_file_columns"):
        column_picker(file.file_id, *ss["upload_file_columns"])


def dataset_picker() -> None:
    """Radio of datasets; downloading or uploading happens right here."""
    ss = st.session_state
    options = list(CHOICES)
    index = options.index(ss["dataset_source"]) if ss["dataset_source"] in options else 0
    choice = st.radio("Dataset", options, index=index, format_func=CHOICES.get, key="home_source",
                      horizontal=True)
    if choice == DEFAULT_SOURCE:
        ss["dataset_source"] = DEFAULT_SOURCE
    elif choice == "builtin:pytorch-names":
        if is_downloaded(choice):
            ss["dataset_source"] = choice
        elif st.button("Download the PyTorch names", key="home_download"):
            _download()
        else:
            st.caption("18 languages, 20,074 names, from download.pytorch.org. Needs internet "
                       "once; the zip is kept in data/.")
    else:
        _upload()
        if ss.get("upload") and ss["dataset_source"] != "upload":
            ss["dataset_source"] = "upload"


def current_report() -> None:
    """Which dataset training will use, with its report."""
    ds = current_dataset()
    name = dataset_name().replace("`", "'")  # inside a code span any other markdown is inert
    st.markdown(f"**In use:** `{name}` — {len(ds):,} names, {len(ds.classes)} labels.")
    report_view(ds.report)


def train_recommended() -> None:
    """Select the recommended preset and open the Train page, which starts training at once
    (nameclf.ui.training.start_on_arrival)."""
    use_preset("fast", on_train_page=False)
    st.session_state["train_on_arrival"] = True
    st.switch_page("pages/2_Train.py")
