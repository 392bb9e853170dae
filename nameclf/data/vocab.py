"""Text normalization and the character vocabulary."""

import unicodedata
from dataclasses import dataclass

PAD = "<pad>"  # index 0: padding, encoded as an all-zero one-hot row
UNK = "<unk>"  # index 1: any character not seen in training
# Latin letters that NFD does not split into a base letter and a mark
_LETTERS = str.maketrans({"ß": "ss", "ẞ": "SS", "Æ": "Ae", "æ": "ae", "Œ": "Oe", "œ": "oe",
                          "Ø": "O", "ø": "o", "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ð": "D",
                          "ð": "d", "Þ": "Th", "þ": "th", "ı": "i", "Ħ": "H", "ħ": "h"})


def fold_ascii(text: str) -> str:
    """Strip accents like the classic tutorial: NFD, then drop combining marks; and spell
    the Latin letters with no such parts as their usual ASCII (Łukasz, Strasse, Orsted).
    Other scripts are kept as they are."""
    if text.isascii():  # nothing to fold (NFD keeps ASCII): most names, at a tenth of the cost
        return text
    decomposed = unicodedata.normalize("NFD", text).translate(_LETTERS)
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


def normalize(name: str, ascii_fold: bool = True) -> str:
    """Trim and collapse whitespace; optionally fold accents (NFC otherwise)."""
    name = " ".join(name.split())
    return fold_ascii(name) if ascii_fold else unicodedata.normalize("NFC", name)


def other_case(c: str) -> str | None:
    """The letter in the other case (`S` <-> `s`), if it is one character; else None."""
    other = c.lower() if c != c.lower() else c.upper()
    return other if other != c and len(other) == 1 else None


@dataclass(frozen=True)
class Vocab:
    """Characters seen in training; index 0 is padding, index 1 unknown."""

    chars: tuple[str, ...]  # the known characters, sorted

    @classmethod
    def build(cls, names: list[str]) -> "Vocab":
        """Vocabulary of every character in `names`."""
        return cls(tuple(sorted({c for name in names for c in name})))

    @property
    def tokens(self) -> list[str]:
        """All tokens by index: pad, unk, then the characters."""
        return [PAD, UNK, *self.chars]

    def __len__(self) -> int:
        return len(self.chars) + 2

    def _lookup(self) -> dict[str, int]:
        lookup = self.__dict__.get("_lookup_cache")
        if lookup is None:
            lookup = {c: i + 2 for i, c in enumerate(self.chars)}
            object.__setattr__(self, "_lookup_cache", lookup)
        return lookup

    def index(self, c: str) -> int:
        """The index of one character: itself, else its other case (a name typed in another
        case than the training names reads as theirs would), else <unk>."""
        lookup = self._lookup()
        found = lookup.get(c)
        if found is None:
            other = other_case(c)
            found = lookup.get(other, 1) if other else 1
        return found

    def encode(self, name: str) -> list[int]:
        """Indices of the characters of `name`; unseen ones read in their other case if that
        was seen, else as <unk>."""
        lookup = self._lookup()
        return [lookup.get(c) or self.index(c) for c in name]

    def unknown_chars(self, name: str) -> list[str]:
        """Characters of `name` that the vocabulary has never seen, in either case."""
        return sorted({c for c in name if self.index(c) == 1})

    def recased_chars(self, name: str) -> list[str]:
        """Characters of `name` read in their other case, because only that one was seen."""
        lookup = self._lookup()
        return sorted({c for c in name if c not in lookup and self.index(c) != 1})
