"""The hostile-input corpus: what a public demo's visitors may throw at it.

Each case ends in a correct load or prediction, or in a NameclfError with a readable message;
never another exception. Cases already covered elsewhere are listed in docs/reliability.md and
not repeated here.
"""

import io
import re
import zipfile
from pathlib import Path

import pytest
import tomllib
import torch
from helpers import lines_text, synthetic_dataset, synthetic_rows
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nameclf.batching.encoding import explain
from nameclf.classify.config import ModelConfig, TrainConfig
from nameclf.classify.pipeline import check_compatible, fit, predict, prepare
from nameclf.data import dataset as data
from nameclf.data.dataset import LoadReport, NameDataset, load_bytes
from nameclf.data.vocab import Vocab
from nameclf.errors import ConfigError, DataError, NameclfError
from nameclf.lab.packing import parse_names, walkthrough
from nameclf.serve.jobs import Job

ROOT = Path(__file__).resolve().parents[1]
GOOD = lines_text(synthetic_rows(per_label=5))  # 20 loadable lines, four labels


def one_line(err: pytest.ExceptionInfo) -> str:
    """The error's message, checked to be one short readable line."""
    text = str(err.value)
    assert text and "\n" not in text and "Traceback" not in text and len(text) < 400
    return text


@pytest.fixture(scope="module")
def run():
    """A tiny trained run on the synthetic data (about a second)."""
    torch.manual_seed(0)
    prep = prepare(synthetic_dataset(per_label=10), seed=0)
    return fit(prep, ModelConfig(cell="gru", hidden_size=8), TrainConfig(steps=5, batch_size=8),
               info={"dataset": "synthetic", "ascii_fold": True})


# --- data files -------------------------------------------------------------------------------

def test_extra_fields_on_a_line_are_skipped_with_a_reason():
    ds = load_bytes((GOOD + "Ab, Kaz, extra\n").encode(), "n.txt")
    assert len(ds) == 20 and ds.report.n_skipped == 1
    assert "3 fields, expected 2" in ds.report.skipped[0][1]


def test_only_bad_lines_name_the_first_problem():
    with pytest.raises(DataError, match="no usable.*3 fields") as err:
        load_bytes(b"a, b, c\nd, e, f\n", "n.txt")
    one_line(err)


def test_a_100k_character_line_is_skipped_not_fatal():
    ds = load_bytes((GOOD + "x" * 100_000 + ", Kaz\n").encode(), "n.txt")
    assert len(ds) == 20 and "longer than" in ds.report.skipped[0][1]
    with pytest.raises(DataError, match="no usable") as err:  # only the long line
        load_bytes(("x" * 100_000 + ", Kaz\n").encode(), "n.txt")
    assert len(one_line(err)) < 200  # the message does not quote the line


def test_a_100k_character_label_is_skipped():
    ds = load_bytes((GOOD + "Abc, " + "L" * 100_000 + "\n").encode(), "n.txt")
    assert len(ds) == 20 and "label longer" in ds.report.skipped[0][1]


def test_a_file_exactly_at_the_cap_loads_and_one_byte_more_is_refused(monkeypatch):
    raw = GOOD.encode()
    monkeypatch.setattr(data, "MAX_BYTES", len(raw))
    assert len(load_bytes(raw, "n.txt")) == 20
    with pytest.raises(DataError, match="limit") as err:
        load_bytes(raw + b"\n", "n.txt")
    one_line(err)


def test_the_server_upload_cap_is_below_the_loader_cap():
    """Streamlit refuses uploads over maxUploadSize before the loader sees them."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    upload_mb = config["server"]["maxUploadSize"]
    assert upload_mb == 5 and upload_mb * 2**20 <= data.MAX_BYTES


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buf.getvalue()


def test_an_uploaded_zip_bomb_is_refused_without_inflating_it():
    bomb = _zip({f"names/L{i}.txt": b"Abc\n" * (15 * 2**20 // 4) for i in range(4)})  # 60 MB
    assert len(bomb) < 1_000_000
    with pytest.raises(DataError, match="bomb.zip") as err:
        load_bytes(bomb, "bomb.zip")
    assert "bytes" in one_line(err) or "large" in one_line(err)


def test_an_uploaded_zip_with_path_traversal_reads_only_safe_members():
    raw = _zip({"names/Kaz.txt": b"Kqx\nZqk\n", "names/Lom.txt": b"Lmo\nMon\n",
                "../Evil.txt": b"Evil\nEvil\n", "/abs/Root.txt": b"Root\nRoot\n",
                "names/../../Up.txt": b"Up\nUp\n"})
    ds = load_bytes(raw, "traversal.zip")
    assert ds.classes == ["Kaz", "Lom"] and "Evil" not in ds.names


@pytest.mark.parametrize("label", ["<script>alert(1)</script>", "**bold**", "[x](javascript:1)",
                                   ":red[red]", "$x^2$", "<b>b</b>"])
def test_html_and_markdown_labels_load_as_plain_text(label):
    text = GOOD + f"Kqxz, {label}\nZzqk, {label}\n"
    ds = load_bytes(text.encode(), "n.txt")
    assert label in ds.classes and ds.report.class_counts[label] == 2


@pytest.mark.parametrize("label", ["**bold**", "<script>alert(1)</script>"])
def test_markdown_labels_are_escaped_where_the_app_shows_them(label):
    from nameclf.ui.views import plain

    with pytest.raises(DataError) as err:
        load_bytes(f"Abc, {label}\nDef, {label}\n".encode(), "n.txt")
    shown = plain(str(err.value))
    assert label not in shown  # every markdown character is escaped…
    assert re.sub(r"\\(.)", r"\1", shown) == str(err.value)  # …and only escaped


# --- typed names -------------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["12345", "١٢٣", "محمد", "כהן", "Se\u0301gal", "Z\u0338\u0337",
                                  "\u202eevil", "\u200b", "🙂👍🏽", "a\x00b", "\ud800"])
def test_odd_typed_names_get_predictions_or_notes(run, text):
    (pred,) = predict(run, text)
    assert pred.name == text
    assert pred.top or pred.note
    if pred.top:
        assert abs(sum(p for _, p in predict(run, text, k=99)[0].top) - 1) < 1e-4


def test_combining_marks_are_folded_or_kept_as_in_training(run):
    (pred,) = predict(run, "Ko\u0301x")
    assert pred.normalized == "Kox" and pred.note == ""


def test_native_spellings_are_read_as_their_ascii(run):
    typed, plain = predict(run, ["Michał Łoś", "Straße", "Øster"]), predict(
        run, ["Michal Los", "Strasse", "Oster"])
    assert [p.normalized for p in typed] == ["Michal Los", "Strasse", "Oster"]
    assert [(p.top, p.note) for p in typed] == [(p.top, p.note) for p in plain]


def test_right_to_left_names_are_read_as_unknown_with_a_note(run):
    (pred,) = predict(run, "محمد")  # the training prior, never the model's blind guess
    assert "no known characters" in pred.note and "training prior" in pred.note
    assert len(pred.top) == 3


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.text(max_size=80), min_size=1, max_size=6))
def test_arbitrary_text_never_raises_a_foreign_error(run, texts):
    """Vocab.encode, explain (as the explainer page calls it) and predict on any text."""
    for text in texts:
        assert all(0 < i < len(run.vocab) for i in run.vocab.encode(text))
    preds = predict(run, texts, k=2)
    assert [p.name for p in preds] == texts
    assert all(p.top or "empty" in p.note for p in preds)
    try:
        data = explain(texts, run.vocab)
        assert data["real_cells"] == sum(len(t) for t in texts)
    except NameclfError:
        assert not all(texts)
    names, warning = parse_names(",".join(texts))
    if warning is None:
        assert walkthrough(names, run.vocab)["names"] == names


def test_explain_refuses_empty_input_with_a_config_error():
    for names in ([], [""], ["ab", ""]):
        with pytest.raises(ConfigError, match="empty") as err:
            explain(names, Vocab.build(["ab"]))
        one_line(err)


# --- checkpoints -------------------------------------------------------------------------------

def test_a_checkpoint_on_data_with_labels_it_never_learned_is_refused(run):
    other = NameDataset(["Kqx", "Zzz", "Lmo", "Mon"], ["Kaz", "Kaz", "Klingon", "Klingon"],
                        LoadReport("other"))
    with pytest.raises(ConfigError, match="never learned: Klingon") as err:
        check_compatible(run, other)
    one_line(err)


def test_a_checkpoint_on_data_with_other_characters_still_evaluates(run):
    from nameclf.classify.pipeline import encode_for

    ds = NameDataset(["Ωmega", "Kqx"], ["Kaz", "Lom"], LoadReport("other"))
    check_compatible(run, ds)  # a subset of its labels is fine
    enc = encode_for(run, ds, [0, 1], "cpu")
    assert int(enc.idx[0, 0]) == 1  # the unseen Ω is <unk>


# --- training ---------------------------------------------------------------------------------

def test_batch_size_larger_than_the_dataset_trains(run):
    prep = prepare(synthetic_dataset(per_label=3), seed=0)
    out = fit(prep, ModelConfig(cell="rnn", hidden_size=4), TrainConfig(steps=2, batch_size=4096),
              info={})
    assert out.status == "completed"


def test_zero_steps_and_zero_epochs_is_a_config_error():
    with pytest.raises(ConfigError) as err:
        TrainConfig(steps=0, epochs=0).validate()
    one_line(err)


# --- background jobs and sessions ------------------------------------------------------------

def test_ending_a_session_stops_its_jobs():
    """What Streamlit's on_release of the session-scoped job list does when a tab closes."""
    from nameclf.ui.cache import stop_jobs

    def forever(report, stop):
        while not stop.wait(0.01):
            report(1)
        return "stopped"

    jobs = [Job(forever, name=f"j{i}").start() for i in range(3)]
    stop_jobs(jobs)
    for job in jobs:
        job.join(5)
        assert not job.running and job.result == "stopped"


def test_the_session_job_list_is_released_with_stop_jobs():
    """The list is session-scoped and wired to stop_jobs (Streamlit calls it on session end)."""
    from nameclf.ui import cache

    assert cache.session_jobs._info.scope == "session"  # noqa: SLF001
    assert cache.session_jobs._info.on_release is cache.stop_jobs  # noqa: SLF001


def test_threads_per_job_split_the_cores():
    from nameclf.ui import cache

    training_cores = cache.THREADS_PER_JOB * cache.MAX_TRAINING_JOBS
    assert 1 <= training_cores <= max(1, cache.CORES // 2)  # the other half serves pages
