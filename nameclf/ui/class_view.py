"""The teacher's side of a class: the panel that makes the links, and the live class view."""

from __future__ import annotations

from collections import Counter
from urllib.parse import urlencode

import streamlit as st

from nameclf.data.dataset import BUILTINS
from nameclf.lab.lesson import CHAPTERS, QUESTION_IDS, QUESTION_TITLES, SHORT
from nameclf.serve import classlink as cl
from nameclf.serve.classroom import ClassView, most_missed
from nameclf.ui.cache import is_downloaded
from nameclf.ui.classroom import link, settings, store
from nameclf.ui.views import plain

MADE = "class_made"  # the links the teacher just made
ENDED = "class_ended"
LIVE_S = 2.0  # the class view refreshes this often


def _address(query: dict[str, str]) -> str:
    base = str(getattr(st.context, "url", "") or "").split("?")[0]
    return f"{base}?{urlencode(query)}"


def _make(found: tuple[int, ...]) -> None:
    ss = st.session_state
    chosen = tuple(ss.get("class_chapters") or found)
    k = cl.ClassLink(cl.new_id(), chosen, ss.get("class_dataset", BUILTINS[0]),
                     int(ss.get("class_seed", 0)), tuple(ss.get("class_hide", ())),
                     tuple(ss.get("class_lock", ())), ss.get("class_feedback", "now"))
    key = cl.new_key()
    why = store().open(k.class_id, key, cl.to_query(k))
    ss[MADE] = (why, cl.to_query(k), cl.teacher_query(k.class_id, key))


def teacher_panel(found: tuple[int, ...]) -> None:
    """A collapsed panel that makes a class link and its teacher link."""
    if link() is not None:
        return  # a learner on a class link
    with st.expander("For teachers: make a class link", icon=":material/groups:"):
        st.caption("Choose what the class sees. Hiding and locking guide learners; a learner "
                   "can still edit an address. Learners are anonymous: a random token, no "
                   "names. The class's data is kept in this server's memory for 6 hours.")
        st.multiselect("Chapters, in the order you pick them (none: all)", found,
                       key="class_chapters", format_func=lambda c: f"{c} · {SHORT[c]}")
        left, mid, right = st.columns(3)
        left.selectbox("Dataset", [s for s in BUILTINS if is_downloaded(s)],
                       key="class_dataset")
        mid.number_input("Seed", 0, cl.MAX_SEED, 0, key="class_seed")
        right.radio("Feedback on wrong answers", cl.FEEDBACK, key="class_feedback",
                    format_func=lambda f: {"now": "at once",
                                           "release": "when I release it"}[f])
        st.multiselect("Hide these settings (lesson and Train)", settings(), key="class_hide")
        st.multiselect("Lock these settings (shown, fixed)", settings(), key="class_lock")
        st.button("Make the class link", key="class_make", on_click=_make, args=(found,),
                  type="primary")
        if made := st.session_state.get(MADE):
            why, learner, teacher = made
            if why:
                st.error(why)
                return
            st.markdown("**Class link**: give this to the learners.")
            st.code(_address(learner), language=None, wrap_lines=True)
            st.markdown("**Teacher link**: keep it to yourself; it opens the class view.")
            st.code(_address(teacher), language=None, wrap_lines=True)


def _end(class_id: str, key: str) -> None:
    st.session_state[ENDED] = store().end(class_id, key)


def _release(class_id: str, key: str) -> None:
    store().release(class_id, key)


def _chapter_row(view: ClassView, chosen: list[int]) -> None:
    cols = st.columns(len(chosen) + 1)
    for col, c in zip(cols, [*chosen, "end"], strict=True):
        label = "Summary" if c == "end" else f"Chapter {c}"
        col.metric(label, view.chapters.get(str(c), 0), help=None if c == "end" else SHORT[c])


def _distribution(qid: str, view: ClassView) -> str:
    counts = Counter(view.answers.get(qid))
    if not counts:
        return f"**Question {qid}**: no answers yet · *{QUESTION_TITLES.get(qid, '')}*"
    if (expected := view.expected.get(qid)) and (expected, True) not in counts:
        counts[(expected, True)] = 0  # nobody right yet: the right answer still shows
    rows = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0][1] is not True, kv[0][0]))
    total = sum(counts.values())
    lines = [f"| {plain(text)} | {n} | {n / total:.0%} | {'✓ right' if right else ''} |"
             for (text, right), n in rows]
    return (f"**Question {qid}** · {total} first answer{'s' if total != 1 else ''} · "
            f"*{QUESTION_TITLES.get(qid, '')}*\n\n"
            "| first answer | learners | share | |\n|---|---:|---:|---|\n" + "\n".join(lines))


def _body(class_id: str, key: str) -> None:
    view, why = store().view(class_id, key)
    if view is None:
        st.error(why)
        return
    chosen = [int(c) for c in view.config.get("cch", "").split(".") if c]
    st.subheader(f"{view.learners} learner{'s' if view.learners != 1 else ''} in this class")
    _chapter_row(view, chosen)
    missed = most_missed(view)
    worst = "\n".join(f"- question {q} ({w} of {n} wrong), {QUESTION_TITLES.get(q, '')}"
                       for q, w, n in missed)
    st.markdown("**Most missed at first try**" + (f"\n{worst}" if worst else ": none yet."))
    for c in chosen:
        qids = [q for q in QUESTION_IDS.get(c, ()) if q in view.answers]
        if qids:
            with st.expander(f"Chapter {c} · {CHAPTERS[c]}", expanded=True):
                for qid in qids:
                    st.markdown(_distribution(qid, view))
    st.markdown("**The class's runs on Train**" + ("" if view.runs else ": none yet."))
    if view.runs:
        st.dataframe(view.runs[-50:], hide_index=True)


def teacher_view() -> bool:
    """On a teacher link (or any address with a key): the class view; True if drawn."""
    query = st.query_params.to_dict()
    if cl.TEACHER not in query:
        return False
    class_id, key = str(query.get("cls", "")), str(query.get(cl.TEACHER, ""))
    st.header("Class view")
    if st.session_state.get(ENDED):
        st.success("The class has ended: its data is deleted from this server.")
        return True
    st.fragment(run_every=LIVE_S)(_body)(class_id, key)
    view, _ = store().view(class_id, key)
    if view is not None:
        row = st.container(horizontal=True)
        if view.config.get("cfb") == "release" and not view.released:
            row.button("Release the answers", key="class_release", on_click=_release,
                       args=(class_id, key))
        row.button("End the class (deletes its data)", key="class_end", on_click=_end,
                   args=(class_id, key), type="primary")
        st.caption(f"Updates every {LIVE_S:g} s. Only this link, with its key, opens it.")
    return True
