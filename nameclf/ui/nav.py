"""The sidebar's page list: Streamlit's own would call Home "streamlit app"."""

import contextlib
import re
from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitAPIException

ROOT = Path(__file__).resolve().parents[2]  # where streamlit_app.py and pages/ live
HOME = ("streamlit_app.py", "Home", ":material/home:")


def pages() -> list[tuple[str, str]]:
    """(path relative to the app, label) of every page in pages/, by the number before its name.

    Sorted by number, not as text, so that `10_` comes after `9_` and not before `2_`. The
    number is not part of a page's address (Streamlit drops it), so renumbering breaks no link.
    """
    found = sorted((ROOT / "pages").glob("*.py"), key=_number)
    return [(f"pages/{p.name}", re.sub(r"^\d+_", "", p.stem).replace("_", " ")) for p in found]


def _number(path: Path) -> tuple[int, str]:
    """(the leading number, the name) of a page file; a file without a number sorts last."""
    m = re.match(r"(\d+)_", path.name)
    return (int(m.group(1)) if m else 10**6, path.name)


def sidebar() -> None:
    """Links to Home and every page; skipped where pages are unknown (a page run alone)."""
    with st.sidebar, contextlib.suppress(StreamlitAPIException):
        st.page_link(HOME[0], label=HOME[1], icon=HOME[2])
        for path, label in pages():
            st.page_link(path, label=label)
