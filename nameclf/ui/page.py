"""The frame every page starts with: its config, the visitor's session keys, the sidebar.

Above `state`, `nav` and `training`, which it calls; nothing in nameclf.ui imports it, so the
session store below stays free of the training code (docs/architecture.md).
"""

import streamlit as st

from nameclf.data.dataset import DEFAULT_SOURCE
from nameclf.ui.nav import sidebar


def init_page(title: str, icon: str = ":material/abc:") -> None:
    """Configure the page and make sure every shared session key exists (deep links too)."""
    st.set_page_config(page_title=f"{title} · nameclf", page_icon=icon, layout="wide")
    ss = st.session_state
    ss.setdefault("dataset_source", DEFAULT_SOURCE)  # a builtin name, or "upload"
    ss.setdefault("upload", None)  # (filename, NameDataset) of the visitor's own file
    ss.setdefault("runs", {})  # run id -> Run, oldest first; this visitor's alone
    ss.setdefault("run_data", {})  # run id -> (NameDataset, split kind, seed) it was trained on
    ss.setdefault("run_counter", 0)  # numbers run ids
    ss.setdefault("job", None)  # the visitor's background training Job, if any
    ss.setdefault("race_results", [])  # rows of earlier speed races
    ss.setdefault("notes", [])  # messages to show once (e.g. an evicted run)
    sidebar()
    if ss["job"] is not None:  # a job that ended while on another page (it imported torch)
        from nameclf.ui.training import collect

        collect()
