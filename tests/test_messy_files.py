"""Files from elsewhere (issue 15): small files of each awkward shape, built here."""

import json
import subprocess
import sys

import pytest
from helpers import synthetic_rows

from nameclf.data.columns import ColumnError, normalized, pick_columns
from nameclf.data.dataset import LoadOptions, load_bytes, load_dataset
from nameclf.errors import DataError


def csv_bytes(header: str, rows: list[tuple[str, ...]]) -> bytes:
    return (header + "\n" + "".join(",".join(r) + "\n" for r in rows)).encode()


def census_rows(n_per_label: int = 30) -> list[tuple[str, str]]:
    """(name, label) rows of four labels, each with its own letters (from helpers)."""
    return synthetic_rows(per_label=n_per_label)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nameclf", *args], capture_output=True,
                          text=True, timeout=240)


# --- columns -------------------------------------------------------------------------------

@pytest.mark.parametrize(("header", "name", "label"), [
    ("name_last,name_suffix,name_first,name_middle,race", "name_last", "race"),
    ("Country,Rank,Index,Name Group,Localized Name,Romanized Name,Count,Percent",
     "Romanized Name", "Country"),
    ("Last Name,Ethnicity", "Last Name", "Ethnicity"),
    ("SURNAME,COUNTRY_CODE", "SURNAME", "COUNTRY_CODE"),
    ("id,family-name,Nationality", "family-name", "Nationality"),
])
def test_headers_are_recognised_whatever_their_case_and_separators(header, name, label):
    assert pick_columns(header.split(","), None, None) == (name, label)


def test_normalized_header_ignores_case_and_separators():
    assert normalized("Last Name") == normalized("last_name") == normalized("LAST-NAME")


def test_an_unrecognised_header_lists_the_columns_and_names_the_flags():
    with pytest.raises(ColumnError) as err:
        pick_columns(["Foo", "Bar", "Baz"])
    message = str(err.value)
    assert "'Foo', 'Bar', 'Baz'" in message and "--name-column" in message
    assert "--label-column" in message and err.value.columns == ["Foo", "Bar", "Baz"]


def test_the_columns_can_be_named_in_any_case():
    raw = csv_bytes("Who,What", [(n, lab) for n, lab in census_rows()])
    ds = load_bytes(raw, "odd.csv", options=LoadOptions(name_column="who", label_column="WHAT"))
    assert len(ds) == 120 and ds.report.columns == ("Who", "What")
    with pytest.raises(ColumnError, match="--label-column 'nope' is not a column"):
        load_bytes(raw, "odd.csv", options=LoadOptions("Who", "nope"))


def test_a_census_style_csv_loads_from_its_name_last_and_race_columns():
    rows = [(n, "", "Ann", "", lab) for n, lab in census_rows()]
    ds = load_bytes(csv_bytes("name_last,name_suffix,name_first,name_middle,race", rows),
                    "census.csv")
    assert ds.report.columns == ("name_last", "race")
    assert sorted(set(ds.labels)) == ["Kaz", "Lom", "Rus", "Vey"]


def test_column_flags_on_a_file_without_a_header_are_refused(tmp_path):
    path = tmp_path / "names.txt"
    path.write_text("".join(f"{n}, {lab}\n" for n, lab in census_rows()))
    with pytest.raises(DataError, match="apply to CSV files"):
        load_dataset(path, options=LoadOptions(name_column="name"))


def test_a_tsv_file_is_read_with_its_header():
    raw = ("Surname\tLanguage\n" + "".join(f"{n}\t{lab}\n" for n, lab in census_rows())).encode()
    assert len(load_bytes(raw, "names.tsv")) == 120


# --- rare labels ---------------------------------------------------------------------------

def test_a_rare_label_is_dropped_and_reported_not_refused():
    rows = census_rows() + [("Tuvalu", "TUV")]
    ds = load_bytes(csv_bytes("name,label", rows), "rare.csv")
    assert "TUV" not in ds.classes and len(ds) == 120
    assert ds.report.dropped_labels == {"TUV": 1}
    assert "1 label with fewer than 2 names dropped (1 rows): 'TUV'" in ds.report.summary()


def test_the_minimum_names_per_label_can_be_raised():
    rows = census_rows() + [("Aaa", "Few"), ("Bbb", "Few"), ("Ccc", "Few")]
    ds = load_bytes(csv_bytes("name,label", rows), "few.csv",
                    options=LoadOptions(min_names_per_label=4))
    assert ds.report.dropped_labels == {"Few": 3} and ds.report.rows_dropped == 3
    assert "Few" in load_bytes(csv_bytes("name,label", rows), "few.csv").classes


def test_a_file_is_refused_only_when_fewer_than_two_labels_remain():
    rows = [(f"Name{i}x", "Big") for i in range(10)] + [("Tiny", "Rare")]
    with pytest.raises(DataError, match="only one label \\('Big'\\) left after 1 label"):
        load_bytes(csv_bytes("name,label", rows), "one.csv")


# --- the report ----------------------------------------------------------------------------

def test_report_lines_say_rows_skips_duplicates_conflicts_and_drops():
    rows = census_rows() + [("", "Kaz"), ("Kqx", "Lom"), ("Kqx", "Lom"), ("Tuv", "TUV")]
    report = load_bytes(csv_bytes("name,label", rows), "mixed.csv").report
    text = "\n".join(report.lines())
    assert text.startswith("loaded mixed.csv (columns 'name', 'label'): 124 rows read")
    assert "1 rows skipped, first: line" in text and "empty name" in text
    assert "exact duplicate rows (kept)" in text and "'TUV'" in text
    assert len(report.lines()) <= 5
    assert json.loads(json.dumps(report.to_dict()))["dropped_labels"] == {"TUV": 1}


# --- repeated rows -------------------------------------------------------------------------

def test_repeated_rows_are_all_kept_by_the_load():
    rows = census_rows() + [("Kqxz", "Kaz")] * 9
    ds = load_bytes(csv_bytes("name,label", rows), "dups.csv")
    assert len(ds) == 129 and ds.report.exact_duplicates == 8  # 9 rows: 1 first + 8 repeats


# --- the command line, end to end ----------------------------------------------------------

@pytest.fixture(scope="module")
def census_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("messy") / "census.csv"
    rows = [(n, "", "Ann", lab) for n, lab in census_rows(40)] + [("Tuvalu", "", "X", "TUV")]
    path.write_bytes(csv_bytes("name_last,name_suffix,name_first,race", rows))
    return path


def test_cli_train_prints_the_load_report_and_stores_it_in_metrics(census_file, tmp_path):
    proc = run_cli("train", "--data", str(census_file), "--model", "ngram", "--quiet",
                   "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "loaded " in proc.stderr and "(columns 'name_last', 'race')" in proc.stderr
    assert "dropped (1 rows): 'TUV'" in proc.stderr
    record = json.loads((tmp_path / "metrics.json").read_text())
    assert record["load_report"]["dropped_labels"] == {"TUV": 1}
    summary = json.loads(proc.stdout)
    assert summary["preset"] is None  # no preset shaped a lone n-gram model
    assert 0 <= summary["top1_names"] <= 1 and summary["n_names"] <= summary["n"]
    ev = run_cli("evaluate", "--checkpoint", str(tmp_path / "model.safetensors"),
                 "--data", str(census_file))
    assert ev.returncode == 0, ev.stderr
    assert "loaded " in ev.stderr and "top1_names" in json.loads(ev.stdout)


def test_cli_min_names_per_label_refuses_in_one_line_when_one_label_is_left(census_file,
                                                                             tmp_path):
    proc = run_cli("train", "--data", str(census_file), "--model", "ngram", "--quiet",
                   "--min-names-per-label", "1000", "--out", str(tmp_path))
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "a classifier needs at least 2" in proc.stderr


def test_cli_unknown_columns_exit_with_one_line_naming_the_flags(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_bytes(csv_bytes("Foo,Bar", census_rows()))
    proc = run_cli("train", "--data", str(path), "--quiet", "--out", str(tmp_path))
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "'Foo', 'Bar'" in proc.stderr and "--name-column" in proc.stderr
    proc = run_cli("train", "--data", str(path), "--name-column", "foo", "--label-column",
                   "bar", "--model", "ngram", "--quiet", "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr


# --- the app's upload: column picker, repair checkbox, rare labels --------------------------

def upload(at, name: str, raw: bytes):
    at.radio(key="home_source").set_value("upload").run()
    return at.file_uploader(key="home_upload").set_value((name, raw, "text/csv")).run()


def test_app_upload_with_an_unknown_header_offers_a_picker_of_its_columns():
    from tests.conftest import app, no_exception

    raw = csv_bytes("Who,Score,What", [(n, "1", lab) for n, lab in census_rows()])
    at = upload(app().run(), "odd.csv", raw)
    no_exception(at)
    errors = [e.value.replace("\\", "") for e in at.error]  # markdown-escaped
    assert any("odd.csv was not loaded" in e and "'Who', 'Score', 'What'; pick them below" in e
               and "--name-column" not in e for e in errors)
    assert at.selectbox(key="home_label_column").value == "What"  # first and last to start
    assert at.selectbox(key="home_name_column").options == ["Who", "Score", "What"]
    at.selectbox(key="home_name_column").set_value("Who")
    at.selectbox(key="home_label_column").set_value("What")
    at.button(key="home_load_columns").click().run()
    no_exception(at)
    assert not at.error and at.session_state["dataset_source"] == "upload"
    assert at.session_state["upload_columns"][1] == ("Who", "What")  # kept with the upload
    assert at.session_state["upload"][1].report.columns == ("Who", "What")
    assert any("from column 'Who'" in c.value for c in at.caption)
    at.run()  # a rerun keeps the choice: still loaded, no picker
    assert not at.error and at.session_state["upload"][1].report.columns == ("Who", "What")


def test_app_upload_drops_a_rare_label_and_the_minimum_can_be_raised():
    from tests.conftest import app, no_exception

    rows = census_rows() + [("Tuvalu", "TUV")]
    at = upload(app().run(), "rare.csv", csv_bytes("name,label", rows))
    no_exception(at)
    summary = " ".join(i.value for i in at.info)
    assert "120 names in 4 labels" in summary and "'TUV'" in summary
    at.number_input(key="home_min_names").set_value(31).run()
    no_exception(at)
    assert any("rare.csv was not loaded: no label left after 5 labels"
               in e.value.replace("\\", "") for e in at.error)  # markdown-escaped


# --- one case only -------------------------------------------------------------------------

def test_an_unseen_letter_reads_in_its_other_case_exactly():
    from nameclf.data.vocab import Vocab

    lower, upper = Vocab.build(["abc"]), Vocab.build(["ABC"])
    assert lower.encode("Abc") == lower.encode("abc") == [2, 3, 4]
    assert upper.encode("Abc") == upper.encode("ABC") == [2, 3, 4]
    assert lower.encode("Abz") == [2, 3, 1]  # z is unseen in both cases
    assert lower.unknown_chars("ABZ") == ["Z"] and lower.recased_chars("ABZ") == ["A", "B"]
    assert Vocab.build(["ab", "AB"]).encode("Ab") == [2, 5]  # both seen: read as typed
    assert lower.encode("ß") == [1]  # its upper case is two letters: not a case pair


def case_only_run(cell: str, case: str):
    from nameclf.classify.config import ModelConfig, TrainConfig
    from nameclf.classify.pipeline import fit, prepare
    from tests.helpers import dataset

    rows = [(getattr(n, case)(), lab) for n, lab in census_rows(30)]
    prep = prepare(dataset(rows), "names", seed=0)
    return fit(prep, ModelConfig(cell=cell, embedding_dim=8, hidden_size=16),
               TrainConfig(steps=30, batch_size=32, eval_every=0))


@pytest.mark.parametrize("cell", ["gru", "ngram"])
@pytest.mark.parametrize(("case", "typed", "as_trained"), [
    ("lower", ["Kqxzk", "KQXZK", "Lomno"], ["kqxzk", "kqxzk", "lomno"]),
    ("upper", ["Kqxzk", "kqxzk", "lomno"], ["KQXZK", "KQXZK", "LOMNO"]),
])
def test_a_name_typed_in_another_case_reads_as_the_training_case(cell, case, typed,
                                                                   as_trained):
    from nameclf.classify.pipeline import predict

    run = case_only_run(cell, case)
    got, want = predict(run, typed, k=4), predict(run, as_trained, k=4)
    for g, w in zip(got, want, strict=True):
        assert [lab for lab, _ in g.top] == [lab for lab, _ in w.top]
        assert [p for _, p in g.top] == pytest.approx([p for _, p in w.top], abs=1e-6)
        assert "<unk>" not in g.note
    assert "the case of the training names" in got[0].note


# --- no confident blind guesses ------------------------------------------------------------

@pytest.mark.parametrize("fields", [dict(cell="gru"), dict(cell="ngram"),
                                    dict(cell="gru", ngram_weight=0.5)])
def test_no_known_character_gets_the_training_prior_from_every_model(fields):
    from nameclf.classify.config import ModelConfig, TrainConfig
    from nameclf.classify.pipeline import fit, predict, prepare
    from tests.helpers import dataset

    rows = census_rows(30) + [(n.upper(), "Kaz") for n, lab in census_rows(30) if lab == "Kaz"]
    prep = prepare(dataset(rows), "names", seed=0)
    run = fit(prep, ModelConfig(embedding_dim=8, hidden_size=16, **fields),
              TrainConfig(steps=20, batch_size=32, eval_every=0))
    counts = run.info["class_counts"]
    total = sum(counts.values())
    prior = sorted(((c, n / total) for c, n in counts.items()), key=lambda t: -t[1])
    for text in ("Иванов", "山田", "Ж", "Ж-Ж"):
        (pred,) = predict(run, text, k=4)
        assert [lab for lab, _ in pred.top] == [lab for lab, _ in prior]
        assert [p for _, p in pred.top] == pytest.approx([p for _, p in prior])
        assert "training prior" in pred.note
        assert pred.top[0][1] < 0.5  # never a near-certain label


# --- mis-decoded text ----------------------------------------------------------------------

def misdecoded_file() -> bytes:
    """UTF-8 names read once as Latin-1 and saved again (`vranÄ\\x8diÄ\\x87`), and a name
    holding a C1 control character, among clean rows."""
    bad = [(n.encode("utf-8").decode("latin-1"), "Kaz") for n in ("Vrančić", "Šimić", "Jurić")]
    rows = census_rows() + bad + [("Kq\x07x", "Kaz")]
    return csv_bytes("name,label", rows)


def test_misdecoded_and_control_characters_are_counted_with_examples():
    report = load_bytes(misdecoded_file(), "mojibake.csv", ascii_fold=False).report
    assert report.misdecoded == 3 and report.control_chars == 3 + 1
    assert report.misdecoded_examples[0] == "Vran\u00c4\x8di\u00c4\x87"
    assert "3 names look mis-decoded" in report.summary() and "--fix-text" in report.summary()
    assert report.repaired == 0 and not report.fix_text


@pytest.mark.parametrize("ascii_fold", [False, True])
def test_fix_text_repairs_them_with_ftfy_and_says_how_many(ascii_fold):
    ds = load_bytes(misdecoded_file(), "mojibake.csv", ascii_fold=ascii_fold,
                    options=LoadOptions(fix_text=True))
    want = ["Vrančić", "Šimić", "Jurić"] if not ascii_fold else ["Vrancic", "Simic", "Juric"]
    assert all(name in ds.names for name in want)
    assert ds.report.repaired == 4 and ds.report.control_chars == 0
    assert not any(c.isprintable() is False for name in ds.names for c in name)
    assert "4 names repaired with ftfy" in ds.report.summary()


def test_cli_fix_text_reports_the_repairs(tmp_path):
    path = tmp_path / "mojibake.csv"
    path.write_bytes(misdecoded_file())
    proc = run_cli("train", "--data", str(path), "--model", "ngram", "--fix-text", "--quiet",
                   "--out", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "4 names repaired with ftfy" in proc.stderr
    report = json.loads((tmp_path / "metrics.json").read_text())["load_report"]
    assert report["repaired"] == 4 and report["misdecoded"] == 3


def test_app_repair_checkbox_reloads_the_upload_repaired():
    from tests.conftest import app, no_exception

    at = upload(app().run(), "mojibake.csv", misdecoded_file())
    no_exception(at)
    shown = " ".join(i.value for i in at.info).replace("\\", "")  # markdown-escaped
    assert "3 names look mis-decoded" in shown
    at.checkbox(key="home_fix_text").check().run()
    no_exception(at)
    assert "4 names repaired with ftfy" in " ".join(i.value for i in at.info)
    assert at.session_state["upload"][1].report.repaired == 4


# --- big files -----------------------------------------------------------------------------

def test_fast_caps_the_names_it_sees_so_its_time_does_not_grow_with_the_file():
    from nameclf.classify.config import total_steps
    from nameclf.classify.presets import preset

    _, fast, _ = preset("fast")
    assert fast.max_names == 80_000
    assert total_steps(10_000, 64, 0, 5, fast.max_names) == 782  # 5 epochs: 50,000 names
    assert total_steps(120_000, 64, 0, 5, fast.max_names) == 1250  # 80,000 names, not 600,000
    assert total_steps(120_000, 64, 0, 5) == 9375  # no cap


def test_cli_epochs_asked_are_not_capped(tmp_path):
    from nameclf.cli import main

    path = tmp_path / "names.csv"
    path.write_bytes(csv_bytes("name,label", census_rows()))
    for flags, cap in ((["--epochs", "1"], 0), (["--steps", "2"], 80_000)):
        assert main(["train", "--data", str(path), *flags, "--hidden", "8", "--quiet",
                     "--out", str(tmp_path / "run")]) == 0
        record = json.loads((tmp_path / "run" / "metrics.json").read_text())
        assert record["train_config"]["max_names"] == cap


def test_many_labels_fit_with_sgd_whose_loss_is_the_torch_models():
    import torch

    from nameclf.classify.config import ModelConfig, TrainConfig
    from nameclf.classify.logistic import SGD_ABOVE, pick_solver
    from nameclf.classify.ngram import NgramConfig, fit_ngram
    from nameclf.classify.pipeline import prepare
    from tests.helpers import synthetic_dataset

    assert pick_solver("auto", SGD_ABOVE) == "lbfgs" and pick_solver("auto", 200) == "sgd"
    assert pick_solver("lbfgs", 200) == "lbfgs"
    prep = prepare(synthetic_dataset(), "names", seed=0)
    config = ModelConfig(cell="ngram", vocab_size=len(prep.vocab), n_classes=len(prep.classes))
    model, result = fit_ngram(prep.train, prep.vocab, config, TrainConfig(steps=1), prep.test,
                              ngram_config=NgramConfig(solver="sgd"))
    assert result.history.top1[0] > 0.9
    logp = model(prep.train.idx.T, prep.train.lengths)  # (N, C)
    nll = -logp.gather(1, prep.train.labels[:, None]).mean()
    assert float(nll) == pytest.approx(result.history.loss[0], rel=1e-4)
    assert torch.allclose(logp.exp().sum(1), torch.ones(len(logp)), atol=1e-5)


def test_a_names_repeated_label_outweighs_its_stray_one_after_the_split():
    """`patel`: 52 rows of one label, 1 of another. The split keeps all 53 rows on one side,
    so a model trained on them answers the frequent label, as the data says."""
    from nameclf.classify.config import ModelConfig, TrainConfig
    from nameclf.classify.pipeline import fit, predict, prepare
    from tests.helpers import dataset

    rows = census_rows() + [("Patel", "Kaz")] * 52 + [("Patel", "Lom")]
    ds = dataset(rows)
    seed = next(s for s in range(50) if "Patel" in {ds.names[i] for i in
                                                    prepare(ds, seed=s).split.train})
    prep = prepare(ds, "names", seed=seed)
    assert sum(ds.names[i] == "Patel" for i in prep.split.train) == 53
    run = fit(prep, ModelConfig(cell="ngram"), TrainConfig(steps=1))
    assert predict(run, "Patel")[0].top[0][0] == "Kaz"


def test_app_predict_notes_the_case_read_the_prior_and_an_over_long_name():
    from nameclf.classify.checkpoint import to_bytes
    from tests.conftest import app, no_exception

    raw = to_bytes(case_only_run("gru", "lower"))
    at = app("pages/4_Predict.py").run()
    at.file_uploader(key="predict_checkpoint").set_value(
        ("lower.safetensors", raw, "application/octet-stream")).run()
    no_exception(at)
    at.text_area(key="predict_text").input("Kqxzk\nИванов\n" + "Kqxz" * 12).run()
    no_exception(at)
    notes = [i.value.replace("\\", "") for i in at.info]  # markdown-escaped
    assert "read 'K' as 'k', the case of the training names" in notes
    assert any("training prior" in n for n in notes)
    assert any(n.startswith("longer than any training name (48 characters") for n in notes)
    # the per-character view leaves out the name answered by the prior: nothing to read in it
    assert "Иванов" not in at.selectbox(key="predict_prefix_name").options
    assert "Kqxzk" in at.selectbox(key="predict_prefix_name").options


def test_app_data_page_shows_what_the_load_dropped_and_found():
    from tests.conftest import app, no_exception, same_session

    rows = census_rows() + [("Tuvalu", "TUV")]
    at = upload(app().run(), "rare.csv", csv_bytes("name,label", rows))
    data = same_session(at, "pages/1_Data.py").run()
    no_exception(data)
    metrics = {m.label: m.value for m in data.metric}
    assert metrics["Duplicate rows"] == "0" and metrics["Names with 2+ labels"] == "0"
    assert any("1 label with fewer than 2 names dropped (1 rows)" in c.value.replace("\\", "")
               for c in data.caption)


def test_a_run_says_which_ngram_solver_fitted_it():
    from nameclf.classify.config import ModelConfig, TrainConfig
    from nameclf.classify.pipeline import fit, prepare
    from tests.helpers import synthetic_dataset

    prep = prepare(synthetic_dataset(), "names", seed=0)
    run = fit(prep, ModelConfig(cell="ngram"), TrainConfig(steps=1))
    assert run.info["ngram_solver"] == "lbfgs"  # 4 labels
    assert "ngram_solver" not in fit(prep, ModelConfig(cell="gru", hidden_size=8),
                                     TrainConfig(steps=1)).info
