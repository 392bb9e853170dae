"""The package's floors (docs/architecture.md): the layout, its contracts, what ships in the
wheel, and checkpoints written before the subpackages still loading to the same answers."""

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "nameclf"
FIXTURES = ROOT / "tests" / "fixtures"
SUBPACKAGES = {"batching", "charts", "classify", "cli", "data", "generate", "lab", "serve", "ui"}


def test_the_package_is_floors_of_short_modules():
    own = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(own) <= 8, own
    assert {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()} == SUBPACKAGES
    long = {str(p.relative_to(ROOT)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}
    for sub in SUBPACKAGES:  # each floor says what lives there and what it may import
        doc = (PACKAGE / sub / "__init__.py").read_text()
        assert doc.startswith('"""') and "import" in doc.split('"""')[1].lower(), sub


def test_import_linter_contracts_are_kept():
    """Layers, charts that never train, Streamlit only in ui, no circles (pyproject.toml)."""
    lint = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "4 kept, 0 broken" in out.stdout


def test_a_wrong_way_import_breaks_the_layers_contract(tmp_path):
    """The contract can fail: a data module that imports the classifier is reported."""
    copy = tmp_path / "repo"
    copy.mkdir()
    subprocess.run(["cp", "-r", str(PACKAGE), str(copy)], check=True)
    (copy / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    bad = copy / "nameclf" / "data" / "vocab.py"
    bad.write_text(bad.read_text() + "\nfrom nameclf.classify import model  # noqa\n")
    lint = Path(sys.executable).with_name("lint-imports")
    out = subprocess.run([str(lint)], cwd=copy, capture_output=True, text=True, timeout=300,
                         env={"PYTHONPATH": str(copy), "PATH": "/usr/bin:/bin"})
    assert out.returncode != 0
    assert "nameclf.data is not allowed to import nameclf.classify" in out.stdout


def test_the_built_wheel_installs_every_subpackage(tmp_path):
    src = tmp_path / "src"  # a copy: setuptools writes build/ beside the sources it builds
    src.mkdir()
    for part in ("nameclf", "pyproject.toml", "README.md"):
        subprocess.run(["cp", "-r", str(ROOT / part), str(src)], check=True)
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(src), "--no-deps",
                    "--no-build-isolation", "-q", "-w", str(dist)], check=True, timeout=600,
                   capture_output=True)
    wheel = next(dist.glob("nameclf-*.whl"))
    shipped = {n for n in zipfile.ZipFile(wheel).namelist() if n.startswith("nameclf/")}
    source = {p.relative_to(ROOT).as_posix() for p in PACKAGE.rglob("*.py")}
    assert source <= shipped, sorted(source - shipped)
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(site), str(wheel)], check=True, timeout=600, capture_output=True)
    code = ("import json, nameclf, nameclf.ui.page, nameclf.cli, nameclf.lab.race, "
            "nameclf.charts.race; from nameclf import fit, load_dataset; "
            "print(json.dumps(nameclf.__file__))")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                         text=True, timeout=300, env={"PYTHONPATH": str(site), "PATH": "/usr/bin"})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.splitlines()[-1]).startswith(str(site))


def cli(*args: str) -> object:
    out = subprocess.run([sys.executable, "-m", "nameclf", *args], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


EXPECTED = json.loads((FIXTURES / "pre_move_expected.json").read_text())


@pytest.mark.parametrize("kind", ["gru", "mix", "ngram"])
def test_classifier_checkpoints_from_before_the_move_predict_the_same(kind):
    got = cli("predict", "--checkpoint", str(FIXTURES / f"pre_move_{kind}.safetensors"),
              *EXPECTED["names"], "--top-k", "3", "--json")
    want = EXPECTED[kind]
    assert [p["note"] for p in got] == [p["note"] for p in want]
    for g, w in zip(got, want):
        assert [label for label, _ in g["top"]] == [label for label, _ in w["top"]]
        assert [p for _, p in g["top"]] == pytest.approx([p for _, p in w["top"]], abs=1e-5)


def test_a_generator_checkpoint_from_before_the_move_samples_the_same():
    got = cli("generate", "--checkpoint", str(FIXTURES / "pre_move_gen.safetensors"),
              "--label", "Rus", "-n", "4", "--seed", "1", "--json")
    assert got == EXPECTED["gen"]


def test_the_walkthrough_cache_hashes_the_modules_that_compute_it():
    """Its file list names modules, not paths, so a move cannot silently turn the cache off."""
    from nameclf.ui.generate_explain import WALKTHROUGH_CODE, code_digest

    assert all((ROOT / (m.replace(".", "/") + ".py")).is_file() for m in WALKTHROUGH_CODE)
    assert code_digest() is not None


def test_fit_hands_each_model_kind_to_its_own_trainer():
    from nameclf.classify.config import ModelConfig
    from nameclf.classify.mixture import fit_mixture
    from nameclf.classify.ngram import fit_baseline
    from nameclf.classify.pipeline import trainer_for
    from nameclf.classify.train import fit_recurrent

    assert trainer_for(ModelConfig(cell="gru")) is fit_recurrent
    assert trainer_for(ModelConfig(cell="lstm", ngram_weight=0.3)) is fit_mixture
    assert trainer_for(ModelConfig(cell="ngram")) is fit_baseline


def test_a_stopped_copy_is_scored_like_a_finished_run():
    """pipeline.finish serves both: a detached watcher's run has the same facts as a fit's."""
    from helpers import synthetic_dataset

    from nameclf.classify.pipeline import finish, fit, prepare
    from nameclf.classify.presets import preset

    prep = prepare(synthetic_dataset(per_label=12), "names", seed=0)
    model_cfg, train_cfg, _ = preset("fast")
    model_cfg.hidden_size, model_cfg.embedding_dim, train_cfg.steps = 8, 4, 5
    run = fit(prep, model_cfg, train_cfg)
    copy = finish(run.model, prep, train_cfg, {"detached": True}, 3, 0.1, 10.0, {}, "stopped")
    assert copy.metrics == run.metrics
    assert copy.status == "stopped" and copy.info["steps"] == 3 and copy.info["detached"]
    assert copy.info["class_counts"] == run.info["class_counts"]  # the prior for blind names
