"""Data: what is in the dataset, and what would make an evaluation lie."""

import streamlit as st

from nameclf.ui.page import init_page

init_page("Data", ":material/bar_chart:")

from nameclf.charts import figures as plots  # noqa: E402
from nameclf.ui import data_tables as tables  # noqa: E402  (no torch: see its docstring)
from nameclf.ui import views  # noqa: E402
from nameclf.ui.cache import current_dataset  # noqa: E402
from nameclf.ui.state import dataset_name  # noqa: E402


def main() -> None:
    st.title("Data")
    ds = current_dataset()
    st.caption(f"`{dataset_name()}` — {ds.report.summary()} Change it on Home.")
    left, right = st.columns(2)
    left.html(plots.class_counts(ds.report.class_counts))  # HTML: no plotly.js to load
    right.html(plots.name_lengths(ds.names))

    # the tables are drawn once their expander is opened: they need pandas (about 0.7 s to
    # load), which the rest of the page does without
    with st.expander("Browse and search the names", key="data_browse", on_change="rerun",
                     icon=":material/search:") as browse:
        if browse.open:
            query = st.text_input("Search names or labels", key="data_query",
                                  placeholder="e.g. ova")
            table = tables.sample_table(ds, query)
            st.caption(f"Showing {len(table):,} rows (at most {tables.MAX_TABLE_ROWS}).")
            st.dataframe(table, hide_index=True, height=300)

    st.subheader("Hygiene")
    report = ds.report
    n_conflicts = len(report.conflicting)
    a, b, c = st.columns(3)
    a.metric("Duplicate rows", f"{report.exact_duplicates:,}",
             help="Kept: a name's repeats are what the file says about it. The names split "
                  "sends every row of a name to one side.")
    b.metric("Names with 2+ labels", f"{n_conflicts:,}")
    c.metric("Rows skipped on load", f"{report.n_skipped:,}")
    found = [report.dropped_line()] if report.dropped_labels else []
    found += [report.text_line()] if report.text_line() else []
    if found:  # what the load dropped, found and repaired (Home sets the minimum and repair)
        st.caption(views.plain(" ".join(found)))
    if n_conflicts:
        with st.expander("Names with more than one label", key="data_conflicts",
                         on_change="rerun") as more:
            if more.open:
                st.dataframe(tables.conflicts_table(ds), hide_index=True)

    st.markdown("**Does the test set leak?** A test name also seen in training is "
                "memorised, not generalised; the tutorial's `rows` split allows it.")
    left, right, out, best = st.columns([1, 1, 1.6, 1.4])
    split = left.radio("Split", ("rows", "names"), key="data_split", horizontal=True)
    seed = right.number_input("Seed", 0, 9999, 0, key="data_seed")
    leak = tables.leak(ds, split, int(seed))
    out.metric("Test rows whose name is also in training",
               f"{leak.leaked:,} of {leak.n_test:,} ({leak.share:.1%})")
    best.metric("Top-1 ceiling", f"{leak.ceiling:.1%}",
                help="The highest top-1 any model can reach on this test split. A model gives "
                     "one answer per name: where the test split holds a name under two labels, "
                     "one of them is always wrong.")


views.run_page(main)
