"""Loading labelled names from every supported source, with the validation report."""

import string

import pytest
from helpers import lines_text, names_zip, synthetic_rows
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nameclf.data import dataset as data
from nameclf.data.dataset import DataError, load_bytes, load_dataset
from nameclf.errors import NameclfError

PAIRS = [("Abreu", "Portuguese"), ("Silva", "Portuguese"), ("Nguyen", "Vietnamese"),
         ("Pham", "Vietnamese"), ("Garcia", "Spanish"), ("Lopez", "Spanish")]


def assert_readable(err: pytest.ExceptionInfo) -> None:
    """A user-facing message: one line, no object reprs."""
    message = str(err.value)
    assert message and "\n" not in message
    assert "<_io." not in message and "object at 0x" not in message


# --- formats -------------------------------------------------------------------------------

def test_line_format():
    ds = load_bytes(lines_text(PAIRS).encode(), "names.txt")
    assert ds.names == [n for n, _ in PAIRS]
    assert ds.labels == [lab for _, lab in PAIRS]
    assert ds.classes == ["Portuguese", "Spanish", "Vietnamese"]
    assert len(ds) == 6
    assert ds.report.rows_read == ds.report.rows_kept == 6
    assert ds.report.n_skipped == 0


def test_line_format_trims_spaces_and_crlf():
    text = "  Abreu ,  Portuguese  \r\nSilva,Portuguese\r\nPham ,Vietnamese\r\nLe, Vietnamese\r\n"
    ds = load_bytes(text.encode(), "names.txt")
    assert ds.names == ["Abreu", "Silva", "Pham", "Le"]
    assert ds.labels == ["Portuguese", "Portuguese", "Vietnamese", "Vietnamese"]


def test_folder_of_label_files(tmp_path):
    (tmp_path / "Arabic.txt").write_text("Khoury\nNader\n\nAntar\n", encoding="utf-8")
    (tmp_path / "Czech.txt").write_text("Dvorak\nNovak\n", encoding="utf-8")
    (tmp_path / "notes.md").write_text("not names", encoding="utf-8")
    ds = load_dataset(tmp_path)
    assert sorted(zip(ds.names, ds.labels, strict=True)) == sorted(
        [("Khoury", "Arabic"), ("Nader", "Arabic"), ("Antar", "Arabic"),
         ("Dvorak", "Czech"), ("Novak", "Czech")])
    assert ds.report.rows_read == 5
    assert ds.report.class_counts == {"Arabic": 3, "Czech": 2}


def test_empty_folder_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="txt") as err:
        load_dataset(tmp_path)
    assert_readable(err)


def test_zip_of_data_names(tmp_path):
    raw = names_zip({"Arabic": "Khoury\nNader\n", "Czech": "Dvořák\nNovak\n"})
    ds = load_bytes(raw, "data.zip")
    assert sorted(zip(ds.names, ds.labels, strict=True)) == sorted(
        [("Khoury", "Arabic"), ("Nader", "Arabic"), ("Dvorak", "Czech"), ("Novak", "Czech")])
    path = tmp_path / "data.zip"
    path.write_bytes(raw)
    from_file = load_dataset(path)
    assert (from_file.names, from_file.labels) == (ds.names, ds.labels)


def test_zip_is_recognised_by_its_magic_bytes_whatever_its_name():
    raw = names_zip({"Arabic": "Khoury\nNader\n", "Czech": "Dvorak\nNovak\n"})
    assert len(load_bytes(raw, "upload.bin")) == 4


@pytest.mark.parametrize("raw", [b"PK\x03\x04 not really a zip", b"PK\x03\x04" + bytes(100)])
def test_broken_zip_is_a_data_error_naming_the_file(raw):
    with pytest.raises(DataError) as err:
        load_bytes(raw, "mine.zip")
    assert_readable(err)
    assert "mine.zip" in str(err.value)


def test_corrupt_zip_data_is_a_data_error():
    raw = bytearray(names_zip({"A": "".join(f"Name{i}x\n" for i in range(300)), "B": "Bo\nBa\n"}))
    start = 30 + len("data/names/A.txt")  # the first member's compressed bytes begin here
    raw[start + 5 : start + 60] = b"\xff" * 55
    with pytest.raises(DataError) as err:
        load_bytes(bytes(raw), "mine.zip")
    assert_readable(err)


def test_csv_with_header_any_case():
    text = "Name,LABEL\n" + "".join(f"{n},{lab}\n" for n, lab in PAIRS)
    ds = load_bytes(text.encode(), "names.csv")
    assert list(zip(ds.names, ds.labels, strict=True)) == PAIRS


def test_csv_with_other_column_names_and_extra_columns():
    text = "id,Surname,nationality\n" + "".join(
        f"{i},{n},{lab}\n" for i, (n, lab) in enumerate(PAIRS))
    ds = load_bytes(text.encode(), "people.csv")
    assert list(zip(ds.names, ds.labels, strict=True)) == PAIRS


def test_csv_quoted_name_may_hold_a_comma():
    text = 'name,label\n"Smith, Jr",English\nJones,English\nAbreu,Portuguese\nSilva,Portuguese\n'
    ds = load_bytes(text.encode(), "names.csv")
    assert ds.names[0] == "Smith, Jr"


def test_csv_missing_a_column_is_a_data_error_listing_what_it_found():
    text = "name,colour\nAbreu,red\nSilva,blue\n"
    with pytest.raises(DataError, match="label column") as err:
        load_bytes(text.encode(), "names.csv")
    assert "colour" in str(err.value)
    assert_readable(err)


def test_csv_report_line_numbers_count_the_header():
    text = "name,label\nAbreu,Portuguese\n,Portuguese\nSilva,Portuguese\nPham,X\nLe,X\n"
    ds = load_bytes(text.encode(), "names.csv")
    assert ds.report.skipped == [(3, "empty name")]
    assert ds.report.rows_read == 5


def test_csv_line_numbers_survive_blank_lines():
    text = "name,label\n\nAbreu,Portuguese\n,Portuguese\n\n\nSilva,Portuguese\nPham,X\nLe,X\n"
    ds = load_bytes(text.encode(), "names.csv")
    assert ds.report.skipped == [(4, "empty name")]
    assert ds.report.rows_read == 5
    assert ds.names == ["Abreu", "Silva", "Pham", "Le"]


# --- the report ---------------------------------------------------------------------------

REPORTED = "\n".join([
    "Abreu, Portuguese",       # 1
    "NoSeparatorHere",         # 2: skipped
    "A, B, C",                 # 3: skipped
    " , Portuguese",           # 4: skipped
    "",                        # 5: blank, not a row
    "Nguyen, Vietnamese",      # 6
    "Pham, Vietnamese",        # 7
    "Abreu, Portuguese",       # 8: exact duplicate of 1
    "Abreu, Spanish",          # 9: conflicts with 1
    "Garcia, Spanish",         # 10
    "Silva, Portuguese",       # 11
    "1234, Spanish",           # 12: skipped
])


def test_report_counts_skips_duplicates_and_conflicts():
    report = load_bytes(REPORTED.encode(), "names.txt").report
    assert report.rows_read == 11
    assert report.skipped == [(2, "no ',' separator"), (3, "3 fields, expected 2"),
                              (4, "empty name"), (12, "name has no letters")]
    assert report.n_skipped == 4
    assert report.rows_kept == 7
    assert report.exact_duplicates == 1
    assert report.conflicting == {"Abreu": ["Portuguese", "Spanish"]}
    assert report.class_counts == {"Portuguese": 3, "Vietnamese": 2, "Spanish": 2}
    summary = report.summary()
    assert "7 names in 3 labels" in summary and "line 2: no ',' separator" in summary


def test_report_quotes_at_most_a_few_skips_but_counts_all():
    bad = [f"bad line {i}" for i in range(data.MAX_SKIP_EXAMPLES + 3)]
    report = load_bytes(("\n".join(bad) + "\n" + lines_text(PAIRS)).encode(), "n.txt").report
    assert report.n_skipped == len(bad)
    assert report.skipped == [(i + 1, "no ',' separator") for i in range(data.MAX_SKIP_EXAMPLES)]


def test_overlong_names_are_skipped():
    text = lines_text(PAIRS) + "x" * (data.MAX_NAME_LEN + 1) + ", Spanish\n"
    report = load_bytes(text.encode(), "n.txt").report
    assert report.skipped == [(7, f"name longer than {data.MAX_NAME_LEN} characters")]


# --- encodings ----------------------------------------------------------------------------

def test_utf16_with_bom_decodes():
    text = "Ségal, French\nDubois, French\nAbreu, Portuguese\nSilva, Portuguese\n"
    raw = text.encode("utf-16")
    assert raw[:2] in (b"\xff\xfe", b"\xfe\xff")
    assert load_bytes(raw, "n.txt").names[0] == "Segal"
    assert load_bytes(raw, "n.txt", ascii_fold=False).names[0] == "Ségal"


def test_latin1_decodes():
    raw = "Ségal, French\nDubois, French\nAbreu, Portuguese\nSilva, Portuguese\n".encode("latin-1")
    assert load_bytes(raw, "n.txt", ascii_fold=False).names[0] == "Ségal"


def test_utf8_bom_is_not_part_of_the_first_name():
    raw = ("\ufeff" + lines_text(PAIRS)).encode("utf-8")
    assert load_bytes(raw, "n.txt").names[0] == "Abreu"
    assert load_bytes(raw, "n.txt").report.rows_kept == 6


def test_utf8_bom_csv_header_is_found():
    raw = ("\ufeffname,label\n" + "".join(f"{n},{lab}\n" for n, lab in PAIRS)).encode()
    assert len(load_bytes(raw, "n.csv")) == 6


def test_ascii_fold_false_keeps_accents():
    text = "Ségal, French\nDubois, French\nAbreu, Portuguese\nSilva, Portuguese\n"
    assert load_bytes(text.encode(), "n.txt", ascii_fold=False).names[0] == "Ségal"
    ds = load_bytes(text.encode(), "n.txt")
    assert ds.names[0] == "Segal" and ds.ascii_fold is True


# --- errors -------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, match", [
    (b"", "empty"),
    (b"  \n\t\r\n   ", "empty"),
    (bytes(range(256)) * 20, "binary"),
    (b"\x01\x02\x03\x04\x05\x06\x07\x08\x0e\x0f" * 50, "binary"),
    (b"Abreu, Portuguese\nSilva, Portuguese\n", "one label"),
    (b"Abreu, Portuguese\nSilva, Portuguese\nPham, Vietnamese\n", "Vietnamese"),
    (b"no separators\nanywhere here\n", "no usable"),
])
def test_unusable_bytes_are_data_errors(raw, match):
    with pytest.raises(DataError, match=match) as err:
        load_bytes(raw, "names.txt")
    assert_readable(err)


def test_data_error_is_a_value_error():
    assert issubclass(DataError, NameclfError) and issubclass(DataError, ValueError)


def test_file_over_the_size_cap(tmp_path, monkeypatch):
    raw = lines_text(PAIRS).encode()
    monkeypatch.setattr(data, "MAX_BYTES", len(raw) - 1)
    with pytest.raises(DataError, match="limit") as err:
        load_bytes(raw, "names.txt")
    assert_readable(err)
    path = tmp_path / "names.txt"
    path.write_bytes(raw)
    with pytest.raises(DataError, match="limit"):
        load_dataset(path)
    monkeypatch.setattr(data, "MAX_BYTES", len(raw))
    assert len(load_bytes(raw, "names.txt")) == 6


def test_real_size_cap_refuses_before_decoding():
    with pytest.raises(DataError, match="limit"):
        load_bytes(b"a" * (data.MAX_BYTES + 1), "huge.txt")


def test_nonexistent_path(tmp_path):
    with pytest.raises(DataError, match="no such file") as err:
        load_dataset(tmp_path / "missing.txt")
    assert_readable(err)


def test_unknown_builtin():
    with pytest.raises(DataError, match="builtin:faker-surnames") as err:
        load_dataset("builtin:nope")
    assert_readable(err)


def test_load_dataset_reads_a_line_file(tmp_path):
    path = tmp_path / "names.txt"
    path.write_text(lines_text(synthetic_rows(5)), encoding="utf-8")
    ds = load_dataset(path)
    assert len(ds) == 20 and len(ds.classes) == 4


# --- fuzzing: anything a visitor uploads is either a dataset or a DataError ---------------

def check_loads_or_data_error(raw: bytes, filename: str) -> None:
    try:
        ds = load_bytes(raw, filename)
    except DataError as err:
        assert str(err)
    else:  # a dataset that loads is a usable one
        assert len(ds.classes) >= 2 and min(ds.report.class_counts.values()) >= 2
        assert len(ds.names) == len(ds.labels) == ds.report.rows_kept


FILENAMES = st.sampled_from(["names.txt", "names.csv", "names.zip", "names"])
PIECES = st.sampled_from([",", ", ", "\n", "\r\n", '"', ";", "\t", "\x00", "\ufeff", "é", "name",
                          "label", "Abreu", "Silva", "Portuguese", "Pham", "X", " "])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.binary(max_size=400), filename=FILENAMES)
def test_arbitrary_bytes_load_or_raise_data_error(raw, filename):
    check_loads_or_data_error(raw, filename)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.lists(st.one_of(PIECES, st.text(string.printable, max_size=6)), max_size=60)
       .map("".join),
       encoding=st.sampled_from(["utf-8", "utf-16", "latin-1", "utf-8-sig"]),
       filename=FILENAMES)
def test_arbitrary_text_loads_or_raises_data_error(text, encoding, filename):
    check_loads_or_data_error(text.encode(encoding, errors="replace"), filename)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=300))
def test_arbitrary_unicode_loads_or_raises_data_error(text):
    check_loads_or_data_error(text.encode("utf-8", errors="surrogatepass"), "names.txt")
