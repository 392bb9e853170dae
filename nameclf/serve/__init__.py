"""Serve: running training for many visitors on one server.

Background jobs and the fair queue of training slots (`jobs`), identical runs trained once and
joined live (`shared_runs`), and the bounded store of finished runs keyed by their settings
(`runstore`). Imports `classify` and below, never `lab`, `charts`, `cli` or `ui`: nothing here
knows about Streamlit.
"""
