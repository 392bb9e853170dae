"""Shared fixtures for the app tests: a tiny dataset and helpers to drive AppTest."""

import random
import time
from pathlib import Path

import pytest
import torch
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").glob("*.py"))
CHROMIUM = "/usr/bin/chromium"  # Debian's package, driven by Playwright in the browser tests
SUFFIXES = {"Ski": ("ski", "wicz", "czak"), "Son": ("son", "sen", "ston"),
            "Ez": ("ez", "es", "ado")}  # three labels a tiny model learns in seconds


def tiny_names(per_label: int = 40, seed: int = 0) -> bytes:
    """A `Name, Label` file of made-up names whose ending gives the label away."""
    rng = random.Random(seed)
    lines = []
    for label, endings in SUFFIXES.items():
        for _ in range(per_label):
            stem = "".join(rng.choice("bdfgklmnprt") + rng.choice("aeiou") for _ in range(2))
            lines.append(f"{stem.title()}{rng.choice(endings)}, {label}")
    return "\n".join(lines).encode()


@pytest.fixture(autouse=True)
def one_torch_thread(request):
    """App tests train tiny models in-process: one thread is fastest and robust under load."""
    if not request.module.__name__.split(".")[-1].startswith("test_app_"):
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_bytes() -> bytes:
    return tiny_names()


@pytest.fixture(scope="session")
def lm_prep():
    """The tiny names (30 a label) split and encoded for the generator; never mutated."""
    from nameclf.data.dataset import load_bytes
    from nameclf.generate.batches import prepare_lm

    return prepare_lm(load_bytes(tiny_names(per_label=30), "tiny.txt"), "names", seed=0)


def gen_tiny(steps: int, **changes):
    """gen-tiny's configs, trained for `steps` steps, with these training fields changed."""
    from nameclf.generate.config import GenTrainConfig, gen_preset

    model_cfg, train_cfg = gen_preset("gen-tiny")
    return model_cfg, GenTrainConfig(**{**train_cfg.__dict__, "steps": steps, "epochs": 0.0,
                                        **changes})


def train_generator_cli(tmp_path: Path, *args: str) -> tuple[int, Path, Path]:
    """`nameclf train --task generate` with gen-tiny on a tiny file, quiet: (exit code, the
    data file, the output folder)."""
    from nameclf.cli import main

    data = tmp_path / "tiny.txt"
    data.write_bytes(tiny_names(per_label=30))
    out = tmp_path / "gen"
    code = main(["train", "--task", "generate", "--data", str(data), "--preset", "gen-tiny",
                 *args, "--out", str(out), "--quiet"])
    return code, data, out


def app(page: str = "streamlit_app.py") -> AppTest:
    """A fresh AppTest of one page (a first request to a fresh session)."""
    return AppTest.from_file(str(ROOT / page), default_timeout=120)


def use_tiny(at: AppTest, raw: bytes) -> AppTest:
    """Give a fresh session the tiny dataset, as if uploaded on Home."""
    from nameclf.data.dataset import load_bytes

    at.session_state["upload"] = ("tiny.txt", load_bytes(raw, "tiny.txt"))
    at.session_state["dataset_source"] = "upload"
    return at


# a Train page link for a model that trains in seconds
TINY = dict(preset="fast", cell="gru", hidden="16", emb="8", budget="steps", steps="30",
            batch="16", split="names", seed="1")


def train_page(raw: bytes, **query) -> AppTest:
    """The Train page opened by a link with TINY's settings (and `query`), data `raw`."""
    at = use_tiny(app("pages/2_Train.py"), raw)
    at.query_params.update({**TINY, **query})
    return at.run()


def same_session(at: AppTest, page: str) -> AppTest:
    """Another page opened by the same visitor (their runs and data carried over)."""
    other = app(page)
    for key in ("runs", "run_data", "upload", "dataset_source", "run_counter"):
        other.session_state[key] = at.session_state[key]
    return other


def wait_for_job(at: AppTest, timeout: float = 90.0) -> AppTest:
    """Re-run the page until the visitor's job has finished and been collected."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        at.run()
        job = at.session_state.get("job")
        if job is not None and job.done and job.meta.collected:
            return at.run()
        time.sleep(0.3)
    raise AssertionError("the training job did not finish in time")


def no_exception(at: AppTest) -> None:
    """Assert the page raised nothing and showed no generic apology."""
    assert not at.exception, [e.value for e in at.exception]
    assert not [e for e in at.error if "Something went wrong" in e.value]


@pytest.fixture
def served(monkeypatch):
    """Bytes of every file a download button serves."""
    files = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def spy(self, path_or_data, mimetype, kind, filename=None):
        if filename:
            files[filename] = path_or_data
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", spy)
    return files
