"""Which columns of a CSV hold the names and the labels: the user's choice, or a guess."""

import re

from nameclf.errors import DataError

# normalized header (lower case, letters and digits only) candidates, most likely first
NAME_COLUMNS = ("name", "surname", "lastname", "namelast", "familyname", "surnames",
                "romanizedname", "romanisedname", "latinname", "transliteratedname",
                "englishname", "names", "localizedname", "localname", "fullname", "firstname",
                "namefirst", "givenname", "forename")
LABEL_COLUMNS = ("label", "language", "lang", "nationality", "country", "countrycode",
                 "countryname", "class", "origin", "race", "ethnicity", "ethnic", "ethnicgroup",
                 "nation", "ancestry", "region", "category", "target", "y")


def normalized(header: str) -> str:
    """`Last Name`, `last_name`, `LAST-NAME` -> `lastname`."""
    return re.sub(r"[^0-9a-z]", "", str(header).lower())


class ColumnError(DataError):
    """The name or label column could not be found; `columns` lists the file's columns.

    `what` is the message without the command-line hint (the app offers a picker instead)."""

    def __init__(self, what: str, columns: list[str], hint: str = ""):
        super().__init__(what + hint)
        self.what, self.columns = what, columns

    def default_columns(self) -> tuple[str, str]:
        """What a picker should start from: the recognised columns, else the first and last."""
        name = guess(self.columns, NAME_COLUMNS) or self.columns[0]
        label = guess(self.columns, LABEL_COLUMNS, taken=name) or self.columns[-1]
        return name, label


def find(columns: list[str], wanted: str) -> str | None:
    """The column the user named: exactly, else ignoring case and separators."""
    if wanted in columns:
        return wanted
    return next((c for c in columns if normalized(c) == normalized(wanted)), None)


def guess(columns: list[str], candidates: tuple[str, ...], taken: str | None = None) -> str | None:
    """The first column whose normalized header is a candidate (in the candidates' order)."""
    by_key = {}
    for c in columns:
        by_key.setdefault(normalized(c), c)
    return next((by_key[k] for k in candidates if k in by_key and by_key[k] != taken), None)


def pick_columns(columns: list[str], name_column: str | None = None,
                 label_column: str | None = None) -> tuple[str, str]:
    """(name column, label column) of a CSV header; ColumnError lists the columns if not found."""
    columns = [str(c) for c in columns]
    listed = ", ".join(repr(c) for c in columns)
    for flag, wanted in (("--name-column", name_column), ("--label-column", label_column)):
        if wanted is not None and find(columns, wanted) is None:
            raise ColumnError(f"{flag} {wanted!r} is not a column of the CSV; its columns: "
                              f"{listed}", columns)
    name = find(columns, name_column) if name_column else guess(columns, NAME_COLUMNS)
    label = (find(columns, label_column) if label_column
             else guess(columns, LABEL_COLUMNS, taken=name))
    if name is None or label is None:
        missing = " and ".join(what for what, col in (("name", name), ("label", label))
                               if col is None)
        raise ColumnError(f"no {missing} column recognised in the CSV header; its columns: "
                          f"{listed}", columns,
                          ". Say which with --name-column and --label-column")
    if name == label:
        raise ColumnError(f"the name and label columns are both {name!r}; choose two "
                          "different columns", columns)
    return name, label
