"""Seeded splits: the tutorial's stratified rows, and leak-free names."""

from collections import Counter

import pytest
from helpers import dataset, synthetic_dataset

from nameclf.data.splits import leaked_rows, make_split, top1_ceiling
from nameclf.errors import ConfigError


def with_duplicates():
    """Every name three times, and some names under two labels."""
    pairs = []
    for i in range(60):
        label = "AB"[i % 2]
        pairs += [(f"Name{i:03d}x", label)] * 3
        if i % 10 == 0:
            pairs.append((f"Name{i:03d}x", "C"))
    pairs += [(f"Other{i}y", "C") for i in range(10)]
    return dataset(pairs)


def test_rows_split_is_stratified_80_20():
    ds = synthetic_dataset(per_label=50)
    sp = make_split(ds, "rows", seed=0)
    assert sp.kind == "rows"
    assert sorted(sp.train + sp.test) == list(range(len(ds)))
    test_counts = Counter(ds.labels[i] for i in sp.test)
    assert test_counts == {label: 10 for label in ds.classes}
    assert sp.valid == []


def test_split_is_seeded():
    ds = synthetic_dataset(per_label=50)
    for kind in ("rows", "names"):
        a, b = make_split(ds, kind, seed=1), make_split(ds, kind, seed=1)
        assert (a.train, a.test) == (b.train, b.test)
        assert make_split(ds, kind, seed=2).test != a.test


def test_names_split_has_no_name_on_both_sides_and_keeps_every_repeated_row():
    ds = with_duplicates()
    sp = make_split(ds, "names", seed=0)
    assert leaked_rows(ds, sp) == 0
    train_names = {ds.names[i] for i in sp.train}
    assert not train_names & {ds.names[i] for i in sp.test}
    # repeated rows are kept: every row lands on exactly one side (issue 15, item 4)
    assert sorted(sp.train + sp.test) == list(range(len(ds)))


def test_names_split_keeps_a_names_label_frequencies_in_training():
    pairs = [("Patel", "Indian")] * 52 + [("Patel", "British")]
    pairs += [(f"Ind{i}a", "Indian") for i in range(20)] + [(f"Bri{i}b", "British")
                                                            for i in range(20)]
    ds = dataset(pairs)
    for seed in range(4):
        sp = make_split(ds, "names", seed=seed)
        rows = sp.train if 0 in sp.train else sp.test
        patel = Counter(ds.labels[i] for i in rows if ds.names[i] == "Patel")
        assert patel == {"Indian": 52, "British": 1}


def test_names_split_stratifies_a_name_by_its_most_frequent_label():
    from nameclf.data.splits import majority_label

    ds = dataset([("Kim", "B"), ("Kim", "A"), ("Kim", "A"), ("Lee", "C"), ("Lee", "D")])
    assert majority_label(ds, [0, 1, 2]) == "A"
    assert majority_label(ds, [3, 4]) == "C"  # a tie: the first seen


def test_a_split_with_nothing_to_test_is_refused_in_one_line():
    from nameclf.errors import DataError

    ds = dataset([("Smith", "A")] * 3 + [("Jones", "B")] * 3)  # one distinct name per label
    with pytest.raises(DataError, match="2 distinct names are too few"):
        make_split(ds, "names")


def test_names_split_keeps_conflicting_labels_of_a_name_together():
    ds = with_duplicates()
    sp = make_split(ds, "names", seed=3)
    side = {}
    for part, rows in (("train", sp.train), ("test", sp.test)):
        for i in rows:
            assert side.setdefault(ds.names[i], part) == part


def test_rows_split_on_duplicated_data_leaks():
    ds = with_duplicates()
    sp = make_split(ds, "rows", seed=0)
    assert len(sp.train) + len(sp.test) == len(ds)  # duplicates are kept
    assert leaked_rows(ds, sp) > 0


def test_leaked_rows_counts_test_rows_whose_name_is_in_training():
    ds = dataset([("Ann", "A"), ("Bob", "B"), ("Ann", "A"), ("Cy", "B"), ("Ann", "B")])
    from nameclf.data.splits import Split
    assert leaked_rows(ds, Split("rows", train=[0, 1], test=[2, 3, 4], valid=[])) == 2


@pytest.mark.parametrize("kind", ["rows", "names"])
def test_valid_frac_carves_from_train_disjointly(kind):
    ds = synthetic_dataset(per_label=50)
    plain = make_split(ds, kind, seed=0)
    sp = make_split(ds, kind, valid_frac=0.25, seed=0)
    assert sp.test == plain.test  # validation comes out of training only
    assert sorted(sp.train + sp.valid) == sorted(plain.train)
    assert not set(sp.train) & set(sp.valid)
    assert Counter(ds.labels[i] for i in sp.valid) == {label: 10 for label in ds.classes}


def test_names_valid_split_shares_no_name_with_train():
    ds = with_duplicates()
    sp = make_split(ds, "names", valid_frac=0.2, seed=0)
    assert sp.valid
    assert not {ds.names[i] for i in sp.train} & {ds.names[i] for i in sp.valid}


def test_every_label_with_two_names_gets_one_held_out():
    ds = dataset([("Ann", "A"), ("Abe", "A"), ("Bob", "B"), ("Ben", "B"), ("Bea", "B")])
    for kind in ("rows", "names"):
        sp = make_split(ds, kind, test_frac=0.1, seed=0)
        assert {ds.labels[i] for i in sp.test} == {"A", "B"}
        assert {ds.labels[i] for i in sp.train} == {"A", "B"}


@pytest.mark.parametrize("kwargs", [
    dict(kind="random"), dict(kind="Names"), dict(test_frac=0.0), dict(test_frac=1.0),
    dict(valid_frac=-0.1), dict(valid_frac=1.0),
])
def test_bad_split_settings_are_config_errors(kwargs):
    with pytest.raises(ConfigError):
        make_split(synthetic_dataset(per_label=5), **kwargs)


def test_prepare_builds_the_vocab_from_training_names_only():
    from nameclf.classify.pipeline import prepare
    from nameclf.data.vocab import Vocab

    pairs = [(f"Ab{c}", "A") for c in "cdefg"] + [(f"Xy{c}", "B") for c in "cdefg"]
    ds = dataset(pairs + [("Qqq", "A"), ("Abc", "A")])
    prep = prepare(ds, "names", seed=0, valid_frac=0.2)
    assert prep.vocab == Vocab.build([ds.names[i] for i in prep.split.train])
    assert prep.classes == ["A", "B"]
    assert (len(prep.train), len(prep.test)) == (len(prep.split.train), len(prep.split.test))
    assert len(prep.valid) == len(prep.split.valid) > 0
    assert prep.leaked == 0
    for enc, rows in ((prep.train, prep.split.train), (prep.test, prep.split.test)):
        assert enc.labels.tolist() == [prep.classes.index(ds.labels[i]) for i in rows]
        assert enc.lengths.tolist() == [len(ds.names[i]) for i in rows]


def test_top1_ceiling_counts_one_right_answer_per_name():
    ds = dataset([("Abel", "French"), ("Abel", "German"), ("Abel", "French"), ("Kim", "Korean"),
                  ("Lee", "Chinese")])
    assert top1_ceiling(ds, [0, 1, 2, 3, 4]) == 4 / 5  # Abel: French twice is right, German not
    assert top1_ceiling(ds, [0, 1]) == 1 / 2
    assert top1_ceiling(ds, [3, 4]) == 1.0 and top1_ceiling(ds, []) == 1.0
    # 60 names 3 times each, 6 of them once more under C, 10 other names: 190 of 196 rows
    assert top1_ceiling(with_duplicates(), list(range(196))) == 190 / 196
