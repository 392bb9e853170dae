"""Train's result downloads the run as a notebook that nbformat accepts."""

import io
import zipfile

import nbformat

from tests.conftest import no_exception, train_page, wait_for_job


def test_a_finished_run_downloads_as_a_valid_notebook_with_its_rows_beside_it(tiny_bytes,
                                                                              served):
    at = train_page(tiny_bytes)
    at.button(key="train_start").click().run()
    wait_for_job(at)
    no_exception(at)
    button = at.get("download_button")
    assert [b.proto.label for b in button] == ["Download checkpoint", "Download as a notebook"]
    with zipfile.ZipFile(io.BytesIO(served["run1-gru.zip"])) as archive:  # an upload: a zip
        assert sorted(archive.namelist()) == ["nameclf_run.ipynb", "names.csv"]
        nb = nbformat.reads(archive.read("nameclf_run.ipynb").decode(), as_version=4)
        rows = archive.read("names.csv").decode().splitlines()
    nbformat.validate(nb)
    assert len(rows) == 120 and rows[0].endswith(",Ski")
    settings = next(c.source for c in nb.cells if c.source.startswith("SETTINGS"))
    namespace: dict = {}
    exec(settings, namespace)
    s = namespace["SETTINGS"]
    assert s["split"] == "names" and s["seed"] == 1 and s["data_file"] == "names.csv"
    assert s["model"]["cell"] == "gru" and s["model"]["hidden_size"] == 16
    assert s["train"]["steps"] == 30 and s["train"]["batch_size"] == 16


def test_a_generator_run_downloads_as_a_valid_notebook(tiny_bytes, served):
    from tests.test_app_generate import generate_page, wait_for_gen

    at = generate_page(tiny_bytes, epochs=1.0)
    at.button(key="gen_start").click().run()
    wait_for_gen(at)
    no_exception(at)
    (run_id,) = at.session_state["gen_runs"]
    with zipfile.ZipFile(io.BytesIO(served[f"{run_id}.zip"])) as archive:
        nb = nbformat.reads(archive.read("nameclf_run.ipynb").decode(), as_version=4)
    nbformat.validate(nb)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "ignore_index=0" in code and "test_bits_per_char" in code
