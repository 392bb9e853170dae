"""Normalization and the character vocabulary."""

import unicodedata

from nameclf.data.vocab import PAD, UNK, Vocab, fold_ascii, normalize


def test_fold_ascii_strips_accents():
    assert fold_ascii("Ségal") == "Segal"
    assert fold_ascii("Müller") == "Muller"
    assert fold_ascii("Ñúñez") == "Nunez"
    assert fold_ascii("Dziedzic") == "Dziedzic"  # nothing to fold


def test_fold_ascii_leaves_ascii_as_the_full_folding_would():
    """ASCII returns at once: NFD, the letter table and the mark filter change none of it."""
    every = "".join(map(chr, range(128)))
    folded = "".join(c for c in unicodedata.normalize("NFD", every)
                     if unicodedata.category(c) != "Mn")
    assert fold_ascii(every) == folded == every
    assert fold_ascii("Ségal Dziedzic") == "Segal Dziedzic"  # one accent: the whole fold


def test_fold_ascii_handles_precomposed_and_combining_forms_alike():
    precomposed, combining = "S\u00e9gal", "Se\u0301gal"
    assert fold_ascii(precomposed) == fold_ascii(combining) == "Segal"


def test_fold_ascii_spells_latin_letters_without_a_decomposition_in_ascii():
    # NFD leaves these whole; the tutorial's unicodeToAscii dropped them ("ukasz")
    assert fold_ascii("Łukasz Michał") == "Lukasz Michal"
    assert fold_ascii("Ørsted Straße Æbeltoft Œuvray") == "Orsted Strasse Aebeltoft Oeuvray"
    assert fold_ascii("Đorđević Þórsson Yıldız") == "Dordevic Thorsson Yildiz"
    assert fold_ascii("Ǿrsted") == "Orsted"  # Ø with an acute: a mark on a letter of the table


def test_fold_ascii_keeps_other_scripts():
    assert fold_ascii("Иванов 田中") == "Иванов 田中"
    assert fold_ascii("Йорк") == "Иорк"  # NFD splits Й into И and a breve, as before


def test_normalize_trims_and_collapses_whitespace():
    assert normalize("  Van   der\tBerg \n") == "Van der Berg"
    assert normalize("Abreu\u00a0Silva") == "Abreu Silva"  # a no-break space is a space
    assert normalize("   ") == ""


def test_normalize_folds_by_default_and_keeps_accents_otherwise():
    assert normalize(" Ségal ") == "Segal"
    kept = normalize("Se\u0301gal", ascii_fold=False)
    assert kept == "S\u00e9gal"
    assert unicodedata.is_normalized("NFC", kept)


def test_vocab_reserves_pad_and_unk():
    vocab = Vocab.build(["ba", "ac"])
    assert vocab.chars == ("a", "b", "c")
    assert vocab.tokens == [PAD, UNK, "a", "b", "c"]
    assert len(vocab) == 5


def test_encode_maps_known_characters_from_two_and_unseen_to_one():
    vocab = Vocab.build(["ba", "ac"])
    assert vocab.encode("cab") == [4, 2, 3]
    assert vocab.encode("aZb") == [2, 1, 3]
    assert vocab.encode("") == []
    assert 0 not in vocab.encode("abcxyz")  # never padding


def test_encode_round_trips_through_tokens():
    names = ["Shyam", "Ram", "O'Neil", "Ségal"]
    vocab = Vocab.build(names)
    for name in names:
        assert "".join(vocab.tokens[i] for i in vocab.encode(name)) == name


def test_unknown_chars_are_sorted_and_distinct():
    vocab = Vocab.build(["abc"])
    assert vocab.unknown_chars("abzyz") == ["y", "z"]
    assert vocab.unknown_chars("cab") == []
    assert vocab.unknown_chars("é🙂") == sorted({"é", "🙂"})


def test_vocab_equality_ignores_the_lookup_cache():
    a, b = Vocab.build(["xy"]), Vocab(("x", "y"))
    a.encode("x")  # fills a's cache only
    assert a == b
    assert hash(a) == hash(b)
