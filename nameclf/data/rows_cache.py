"""(name, label) rows kept on disk between runs, as JSON: a built-in dataset is built once.

The Faker surnames take about a second to romanize, on every fresh server and CLI run; read
back from this cache they take a few milliseconds. The file says what built it (`source`:
package versions, a digest of the code); a file from other code, cut short, corrupt or not
rows at all is ignored and written anew, and a folder that cannot be written keeps nothing.
JSON, never pickle: the cache folder may be shared, so reading it must not run code.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

FORMAT = 1  # of the file: {"format", "source", "rows": [[name, label], ...]}


def cache_dir() -> Path:
    """$NAMECLF_CACHE, else $XDG_CACHE_HOME/nameclf, else ~/.cache/nameclf.

    nameclf.data.lexicon keeps its word table here too. This module imports no numpy: it is read
    before the app's first page is drawn.
    """
    if os.environ.get("NAMECLF_CACHE"):
        return Path(os.environ["NAMECLF_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "nameclf"


def valid_rows(rows: object) -> bool:
    """Tell whether rows are non-empty, unique [name, label] string pairs sorted by label
    then name, as nameclf.data.builtin.build_rows() gives them."""
    if not isinstance(rows, list) or not rows:
        return False
    if not all(isinstance(row, list) and len(row) == 2
               and all(isinstance(part, str) and part for part in row) for row in rows):
        return False
    keys = [(label, name) for name, label in rows]
    return all(a < b for a, b in zip(keys, keys[1:], strict=False))


def read(path: Path, source: str) -> list[tuple[str, str]] | None:
    """The rows the file holds if `source` built them; None if absent, corrupt, cut short,
    foreign or stale."""
    try:
        saved = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        return None
    if not (isinstance(saved, dict) and saved.get("format") == FORMAT
            and saved.get("source") == source and valid_rows(saved.get("rows"))):
        return None
    return [(name, label) for name, label in saved["rows"]]


def write(path: Path, source: str, rows: list[tuple[str, str]]) -> None:
    """Write the rows atomically; a cache that cannot be written is simply not kept."""
    write_json(path, {"format": FORMAT, "source": source, "rows": rows})


def write_json(path: Path, payload: object) -> None:
    """Write `payload` as JSON atomically (a temporary file, then a rename), so a reader
    never sees half a file; a folder that cannot be written keeps nothing."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".part")
    except OSError:
        return
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(payload, out, ensure_ascii=False, separators=(",", ":"))
        os.replace(tmp, path)
    except (OSError, TypeError, ValueError):
        Path(tmp).unlink(missing_ok=True)
