"""A run as a plain-PyTorch notebook: it runs without nameclf, learns, and carries its data."""

import io
import json
import zipfile

import nbformat
import pytest
from nbclient import NotebookClient

from nameclf.cli import main
from nameclf.data.dataset import load_bytes, load_dataset
from nameclf.data.splits import make_split
from nameclf.data.vocab import Vocab
from nameclf.lab import notebook_data as cells
from nameclf.lab.notebook import data_spec, notebook_bytes, package
from nameclf.lab.notebook_classify import classifier_notebook
from tests.conftest import tiny_names

TINY_FLAGS = ["--model", "gru", "--embedding-dim", "16", "--hidden", "32", "--steps", "150",
              "--batch-size", "32", "--lr", "0.01", "--eval-every", "50"]
NO_NAMECLF = ("import sys; print(json.dumps(sorted(m for m in sys.modules\n"
              "                                if m.split('.')[0] == 'nameclf')))")


def last_json(cell) -> dict:
    """The JSON line a code cell printed last."""
    text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
    return json.loads(text.strip().splitlines()[-1])


def test_a_tiny_notebook_runs_without_nameclf_and_learns_as_the_package_does(tmp_path, capsys):
    data = tmp_path / "tiny.txt"
    data.write_bytes(tiny_names(per_label=60))  # the label is given away by the last letters
    assert main(["notebook", "--data", str(data), *TINY_FLAGS, "--out",
                 str(tmp_path / "run.zip")]) == 0
    assert json.loads(capsys.readouterr().out)["data"] == "beside"
    with zipfile.ZipFile(tmp_path / "run.zip") as archive:
        assert sorted(archive.namelist()) == ["nameclf_run.ipynb", "names.csv"]
        archive.extractall(tmp_path / "nb")
    nb = nbformat.read(tmp_path / "nb" / "nameclf_run.ipynb", as_version=4)
    nbformat.validate(nb)
    sources = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "nameclf" not in sources and "pack_padded_sequence(" in sources
    nb.cells.append(nbformat.v4.new_code_cell(NO_NAMECLF))
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path / "nb")}}).execute()
    result = last_json(nb.cells[-2])
    assert set(result) == {"top1", "top2", "steps", "seconds"}
    assert result["steps"] == 150 and result["top1"] >= 0.9
    assert last_json(nb.cells[-1]) == []  # the kernel never imported nameclf

    assert main(["train", "--data", str(data), *TINY_FLAGS, "--quiet", "--out",
                 str(tmp_path / "cli")]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert cli["steps"] == 150 and cli["top1"] >= 0.9
    assert abs(cli["top1"] - result["top1"]) <= 0.05  # same data, split, seed and settings


def run_cells(nb, *markers: str) -> dict:
    """Execute in this process the imports, the settings and the code cells that start with
    one of `markers` (no training), and return their namespace."""
    ns: dict = {}
    exec(cells.IMPORTS, ns)
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.startswith(("SETTINGS", *markers)):
            exec(cell.source, ns)
    return ns


def test_the_builtin_data_goes_inside_and_comes_back_row_for_row():
    from nameclf.classify.presets import preset

    ds = load_dataset("builtin:faker-surnames")
    model_cfg, train_cfg, split = preset("fast")
    spec = data_spec(ds, "builtin:faker-surnames")
    nb = classifier_notebook(model_cfg, train_cfg, split, spec)
    suffix, raw = package(nb, spec)
    assert suffix == ".ipynb" and raw == notebook_bytes(nb) and len(raw) <= 2 * 2**20
    ns = run_cells(nb, "DATA", "LETTERS", "def stratified", "chars")
    assert ns["raw_rows"] == list(zip(ds.names, ds.labels, strict=True))
    assert (ns["names"], ns["labels"]) == (ds.names, ds.labels)  # the cleaning changes nothing
    sp = make_split(ds, "names", seed=0)
    assert (ns["train_rows"], ns["test_rows"]) == (sp.train, sp.test)
    vocab = Vocab.build([ds.names[i] for i in sp.train])
    assert ns["chars"] == list(vocab.chars) and ns["classes"] == ds.classes
    assert [ns["encode"](n) for n in ("Müller", "o'neil", "Łukasz")] == \
        [vocab.encode(n) for n in ("Müller", "o'neil", "Łukasz")]
    assert ns["SETTINGS"]["train"]["sampling"] == "bucket"
    assert ns["SETTINGS"]["train"]["max_names"] == 80_000
    assert ns["SETTINGS"]["train"]["clip_grad"] == 1.0


def names_zip(rows: dict[str, list[str]]) -> bytes:
    """A zip shaped like the tutorial's download: data/names/<Label>.txt."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("data/eng-fra.txt", "not names\n")
        for label, names in rows.items():
            archive.writestr(f"data/names/{label}.txt", "\n".join(names).encode("utf-8"))
    return out.getvalue()


def test_the_classic_download_is_cleaned_as_the_app_cleans_it_and_checked(tmp_path,
                                                                           monkeypatch):
    from nameclf.classify.config import ModelConfig, TrainConfig

    raw = names_zip({"German": ["Müller", " Groß ", "Strauß", ""], "Polish": ["Łukasz",
                     "Wałęsa", "  Kowalski"], "Lone": ["Solo"], "Czech": ["Dvořák", "123"]})
    ds = load_bytes(raw, "pytorch-names.zip")
    spec = data_spec(ds, "builtin:pytorch-names")
    assert spec.kind == "url" and spec.values["url"].startswith("https://")
    nb = classifier_notebook(ModelConfig(), TrainConfig(), "rows", spec)
    (tmp_path / "pytorch-names.zip").write_bytes(raw)  # already downloaded: no network
    monkeypatch.chdir(tmp_path)
    ns = run_cells(nb, "# the tutorial", "LETTERS")  # the checksum assertion passes
    assert ns["names"] == ds.names and "Lone" not in ns["labels"]
    (tmp_path / "pytorch-names.zip").write_bytes(names_zip({"German": ["Muller", "Gross"],
                                                            "Polish": ["Lukasz", "Walesa"]}))
    with pytest.raises(AssertionError, match="differ from the ones the run trained on"):
        run_cells(nb, "# the tutorial", "LETTERS")


def test_an_ipynb_of_an_upload_gets_its_rows_beside_it(tmp_path, capsys):
    data = tmp_path / "tiny.txt"
    data.write_bytes(tiny_names(per_label=5))
    out = tmp_path / "out" / "run.ipynb"
    assert main(["notebook", "--data", str(data), "--out", str(out)]) == 0
    assert json.loads(capsys.readouterr().out)["files"] == [str(out),
                                                             str(out.parent / "names.csv")]
    nbformat.validate(nbformat.read(out, as_version=4))
    assert (out.parent / "names.csv").read_text().count("\n") == 15


@pytest.mark.parametrize("args, message", [
    (["--bogus", "1", "--out", "x.ipynb"], "unrecognized arguments: --bogus 1"),
    (["--out", "x.txt"], "--out must end in .ipynb or .zip"),
    (["--model", "ngram", "--out", "x.ipynb"], "a pure n-gram run cannot be exported"),
    (["--hidden", "0", "--out", "x.ipynb"], "hidden_size must be 1 to 2048"),
])
def test_bad_input_is_one_clear_line(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    try:
        code = main(["notebook", *args])
    except SystemExit as exit:  # the parser's errors
        code = exit.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not list(tmp_path.iterdir())  # nothing written


def test_a_checkpoint_without_its_settings_cannot_be_exported(tmp_path, capsys):
    from nameclf.classify.checkpoint import save
    from nameclf.classify.config import ModelConfig, TrainConfig
    from nameclf.classify.pipeline import fit, prepare

    ds = load_bytes(tiny_names(per_label=10), "tiny.txt")
    run = fit(prepare(ds, "names", 0), ModelConfig(cell="rnn", hidden_size=8),
              TrainConfig(steps=2, epochs=0))
    run.info = {}  # a run saved by other code, without its data, split and seed
    save(run, tmp_path / "foreign.safetensors")
    assert main(["notebook", "--checkpoint", str(tmp_path / "foreign.safetensors"),
                 "--out", str(tmp_path / "x.ipynb")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "no record of its training settings (data, split, seed missing)" in err
    assert not (tmp_path / "x.ipynb").exists()


def test_a_generator_notebook_gets_the_packages_bits_per_character(tmp_path, monkeypatch):
    import torch

    from nameclf.generate.batches import prepare_lm
    from nameclf.generate.config import gen_preset
    from nameclf.generate.train import fit_generator
    from nameclf.lab.notebook_generate import generator_notebook

    ds = load_bytes(tiny_names(per_label=20), "tiny.txt")
    model_cfg, train_cfg = gen_preset("gen-tiny")
    train_cfg.steps, train_cfg.eval_every = 40, 20
    spec = data_spec(ds, "tiny.txt")
    nb = generator_notebook(model_cfg, train_cfg, "names", spec, 0)
    (tmp_path / "names.csv").write_bytes(spec.beside)
    monkeypatch.chdir(tmp_path)
    threads = torch.get_num_threads()
    try:  # in this process, without the kernel (the classifier's test runs one): every cell
        # but the plot, which would open a browser here
        ns = run_cells(nb, "# names.csv", "LETTERS", "def stratified", "chars", "V =",
                       "CELLS", "def take", "T =", "test_bpc", "@torch.no_grad()\ndef sample")
    finally:
        torch.set_num_threads(threads)
    run = fit_generator(prepare_lm(ds, "names", 0), model_cfg, train_cfg)
    assert ns["step"] == run.info["steps"] == 40
    assert abs(ns["test_bpc"] - run.metrics["net_bits_per_char"]) < 1e-3
    assert [len(ns["sample"](label, n=3)) for label in ds.classes] == [3, 3, 3]


def test_the_classifier_notebook_takes_the_packages_steps_and_stops_where_the_run_did(
        tmp_path, monkeypatch):
    from nameclf.classify.config import ModelConfig, TrainConfig
    from nameclf.classify.pipeline import fit, prepare
    from nameclf.lab.notebook_classify import run_notebook

    ds = load_bytes(tiny_names(per_label=20), "tiny.txt")
    model_cfg = ModelConfig(cell="lstm", embedding_dim=0, hidden_size=16, dropout=0.2)
    train_cfg = TrainConfig(optimizer="sgd", lr=0.1, momentum=0.9, batch_size=16, steps=40,
                            epochs=0, sampling="bucket", schedule="cosine", warmup=5,
                            clip_grad=0.5, label_smoothing=0.1, class_weighting=True,
                            time_budget=30.0, eval_every=10)
    run = fit(prepare(ds, "rows", seed=3), model_cfg, train_cfg)  # all 40 steps
    info = {"data": "upload:tiny.txt", "split": "rows", "seed": 3, "status": "stopped",
            "steps": 20}  # as if Stop had ended it after 20 steps
    nb, spec = run_notebook(model_cfg, train_cfg, info, ds)
    (tmp_path / "names.csv").write_bytes(spec.beside)
    monkeypatch.chdir(tmp_path)
    ns = run_cells(nb, "# names.csv", "LETTERS", "def stratified", "chars", "lengths =",
                   "def take", "CELLS", "T =")
    assert ns["T"]["stop_after"] == 20 and ns["T"]["time_budget"] == 0.0
    assert ns["step"] == 20 and ns["n_steps"] == 40  # the schedule planned for the whole run
    # the same first 20 steps: initial weights, batches, schedule, loss, clipping (the
    # package's hand-written LSTM and nn.LSTM differ only in float rounding)
    assert ns["curves"]["loss"] == pytest.approx(run.history["running_loss"][:20], abs=1e-4)
    assert ns["curves"]["eval_step"] == [10, 20]


def test_an_ipynb_never_overwrites_other_rows_beside_it(tmp_path, capsys):
    data = tmp_path / "tiny.txt"
    data.write_bytes(tiny_names(per_label=5))
    (tmp_path / "names.csv").write_text("Mine,Keep\n")
    assert main(["notebook", "--data", str(data), "--out", str(tmp_path / "run.ipynb")]) == 2
    assert "names.csv exists and holds other rows" in capsys.readouterr().err
    assert (tmp_path / "names.csv").read_text() == "Mine,Keep\n"
    assert not (tmp_path / "run.ipynb").exists()
