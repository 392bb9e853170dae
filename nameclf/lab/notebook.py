"""A run as a notebook that stands on its own: the data it carries, cells, files to download.

Pure functions: a dataset and settings in, an nbformat notebook and bytes out. The classifier's
cells are in `notebook_classify`, the generator's in `notebook_generate`, the data cells both
share in `notebook_data`. Notebooks are written with nbformat, never as hand-built JSON.
"""

import base64
import csv
import gzip
import hashlib
import io
import pprint
import zipfile
from dataclasses import dataclass

from nameclf.data.builtin import PYTORCH_NAMES_URL
from nameclf.data.dataset import NameDataset
from nameclf.errors import ConfigError
from nameclf.lab import notebook_data as cells

NOTEBOOK_NAME = "nameclf_run.ipynb"
DATA_FILE = "names.csv"  # an upload's rows, beside the notebook in the zip
EMBED_SOURCES = ("builtin:faker-surnames",)  # built from Faker here: written into the notebook
URL_SOURCES = {"builtin:pytorch-names": PYTORCH_NAMES_URL}  # fetched by the notebook itself
LINE = 100  # characters of base64 per line of the embedded data


@dataclass
class DataSpec:
    """How a notebook gets its rows: embedded, fetched by URL, or read from a file beside it."""

    kind: str  # embedded | url | beside
    cell: str  # the code cell that reads the raw rows
    markdown: str  # what the data cell does, for the reader
    describe: str  # the data in a few words
    values: dict  # what the cells read from SETTINGS
    beside: bytes = b""  # the file that goes beside the notebook (kind "beside")

    def settings(self) -> dict:
        return dict(self.values)


def rows_csv(ds: NameDataset) -> bytes:
    """The dataset's rows as a header-less `name,label` CSV (UTF-8)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(zip(ds.names, ds.labels))
    return out.getvalue().encode("utf-8")


def rows_digest(ds: NameDataset) -> str:
    """SHA-256 of the rows, as the notebook's cleaning cell computes it."""
    text = "".join(f"{n}\t{lab}\n" for n, lab in zip(ds.names, ds.labels))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def embed_payload(raw: bytes) -> str:
    """`raw` gzip-compressed as base64 lines of Python string literals."""
    b64 = base64.b64encode(gzip.compress(raw, mtime=0)).decode("ascii")
    return "\n".join(f'    "{b64[i : i + LINE]}"' for i in range(0, len(b64), LINE))


def data_spec(ds: NameDataset, source: str) -> DataSpec:
    """How a notebook carries this dataset, read from `source` (a builtin: name, or a file)."""
    values = dict(ascii_fold=ds.ascii_fold, min_names_per_label=ds.report.min_names_per_label,
                  rows_sha256=rows_digest(ds))
    n = f"{len(ds):,} names in {len(ds.classes)} labels"
    if source in EMBED_SOURCES:
        cell = cells.EMBEDDED.replace("{payload}", embed_payload(rows_csv(ds)))
        return DataSpec("embedded", cell, f"The app's built-in `{source}` ({n}), written into "
                        "this cell as a compressed CSV, so the notebook runs offline.",
                        f"the built-in {source} ({n})", values)
    if source in URL_SOURCES:
        values.update(url=URL_SOURCES[source], data_file="pytorch-names.zip")
        return DataSpec("url", cells.DOWNLOAD, f"The classic tutorial's names ({n}), "
                        f"downloaded once from {URL_SOURCES[source]}; a checksum of the rows "
                        "below checks they are the ones the run used.",
                        f"the classic tutorial download ({n})", values)
    values.update(data_file=DATA_FILE)
    return DataSpec("beside", cells.BESIDE, f"Your file `{source}` ({n}): `{DATA_FILE}` beside "
                    "this notebook holds its rows as the app read them.",
                    f"your file {source} ({n})", values, beside=rows_csv(ds))


def settings_cell(settings: dict) -> str:
    """A code cell that sets SETTINGS to these values, as a Python literal."""
    return "SETTINGS = " + pprint.pformat(settings, width=96, sort_dicts=False)


def build(parts: list[tuple[str, str]]):
    """An nbformat v4 notebook of ("md" | "code", source) cells, for a Python 3 kernel."""
    import nbformat

    make = {"md": nbformat.v4.new_markdown_cell, "code": nbformat.v4.new_code_cell}
    nb = nbformat.v4.new_notebook(cells=[make[kind](source) for kind, source in parts])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.validate(nb)
    return nb


def notebook_bytes(nb) -> bytes:
    """The notebook as .ipynb bytes."""
    import nbformat

    return nbformat.writes(nb).encode("utf-8")


def package(nb, data: DataSpec, zipped: bool | None = None) -> tuple[str, bytes]:
    """The download: (suffix, bytes). A bare .ipynb, or a zip holding the notebook and the data
    file beside it; `zipped` None zips exactly when the data needs a file beside it."""
    zipped = data.kind == "beside" if zipped is None else zipped
    if not zipped:
        if data.kind == "beside":
            raise ConfigError(f"this notebook reads {DATA_FILE} beside it: download it as a zip")
        return ".ipynb", notebook_bytes(nb)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(NOTEBOOK_NAME, notebook_bytes(nb))
        if data.kind == "beside":
            archive.writestr(DATA_FILE, data.beside)
    return ".zip", out.getvalue()
