"""Home page pieces: choosing the dataset (built in, downloaded or uploaded) and its report.

Nothing here imports torch or pandas: Home is the first page a visitor sees, and it needs
neither (torch starts loading in the background once Home is drawn).
"""

import streamlit as st

from nameclf.data import DEFAULT_SOURCE, LoadReport, load_bytes
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


def _upload() -> None:
    """Read an uploaded `Name, Label` file; a bad one is refused and nothing is lost."""
    ss = st.session_state
    file = st.file_uploader("A `Name, Label` .txt, a CSV with name and label columns, or a zip "
                            "of `<Label>.txt` files", type=["txt", "csv", "zip"],
                            key="home_upload")
    if file is None:
        return
    if ss.get("upload_file_id") != file.file_id:
        ss["upload_file_id"], ss["upload_error"] = file.file_id, ""
        try:
            ss["upload"] = (file.name, load_bytes(file.getvalue(), file.name))
            ss["dataset_source"] = "upload"
        except DataError as err:
            ss["upload_error"] = f"{file.name} was not loaded: {str(err).rstrip('.')}."
    if ss.get("upload_error"):
        st.error(plain(ss["upload_error"] + " Your dataset is unchanged."))


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
    """Select the recommended preset and open the Train page."""
    use_preset("fast", on_train_page=False)
    st.switch_page("pages/2_Train.py")
