"""The sidebar's page list: Streamlit's own would call Home "streamlit app"."""

import contextlib
import re
from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitAPIException

ROOT = Path(__file__).resolve().parents[2]  # where streamlit_app.py and pages/ live
HOME = ("streamlit_app.py", "Home", ":material/home:")


def pages() -> list[tuple[str, str]]:
    """(path relative to the app, label) of every page in pages/, in file order."""
    found = sorted((ROOT / "pages").glob("*.py"))
    return [(f"pages/{p.name}", re.sub(r"^\d+_", "", p.stem).replace("_", " ")) for p in found]


def sidebar() -> None:
    """Links to Home and every page; skipped where pages are unknown (a page run alone)."""
    with st.sidebar, contextlib.suppress(StreamlitAPIException):
        st.page_link(HOME[0], label=HOME[1], icon=HOME[2])
        for path, label in pages():
            st.page_link(path, label=label)
