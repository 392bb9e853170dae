"""The lesson's question widget and the learner's progress, kept in the page's address.

Progress (chapter, answers, names) lives in `st.query_params`, mirrored in session state for
the run at hand: a reload or a shared link resumes exactly where it was, and nothing of a
learner's lesson is kept on the server.
"""

from __future__ import annotations

import streamlit as st

from nameclf.lab import lesson as ls
from nameclf.lab.lesson import Progress, Question
from nameclf.ui import classroom
from nameclf.ui.views import plain

KEY = "lesson_progress"  # the Progress of this run, as parsed from or written to the address
NOTE = "lesson_note"  # a line about an address that could not be used, shown once


def progress(chapters: tuple[int, ...]) -> Progress:
    """The learner's progress: parsed from the address once a session, then kept here."""
    ss = st.session_state
    if KEY not in ss:
        qids = {q for c in chapters for q in ls.QUESTION_IDS.get(c, ())}
        ss[KEY], note = ls.parse_progress(st.query_params.to_dict(), chapters, qids)
        if note:
            ss[NOTE] = note
            save(ss[KEY])
    return ss[KEY]


def save(p: Progress) -> None:
    """Write `p` to the page's address (replacing the lesson's own parameters)."""
    st.session_state[KEY] = p
    st.query_params.from_dict({**ls.to_query(p), **classroom.link_query()})


def go(chapter: int | str) -> None:
    """Open a chapter (or the summary): a button callback."""
    p = st.session_state[KEY]
    p.chapter = chapter
    save(p)


def answer_text(q: Question, value: float | int | str | None) -> str:
    """An answer as the learner chose it: a choice's words, or a number with its unit."""
    if value is None:
        return "—"
    if isinstance(value, str):
        value = ls.parse_value(q, value)
        if value is None:
            return "—"
    if q.is_choice:
        return q.choices[int(value)]
    return f"{ls.format_number(value)}{q.unit}"


def _check(q: Question) -> None:
    ss = st.session_state
    value = ss.get(f"lesson_in_{q.qid}")
    if value is None:
        ss[f"lesson_warn_{q.qid}"] = ("Pick an answer first." if q.is_choice
                                     else "Type a number first.")
        return
    p = ss[KEY]
    stored = str(int(value)) if q.is_choice else ls.format_number(float(value))
    if q.qid not in p.answers or p.answers[q.qid].first is None:  # a class counts the first
        classroom.sent(q.qid, answer_text(q, stored), ls.is_right(q, ls.parse_value(q, stored)),
                       "" if q.pending else answer_text(q, q.answer))
    ls.record(p, q.qid, stored)
    ss.pop(f"lesson_retry_{q.qid}", None)
    save(p)


def _skip(qid: str) -> None:
    p = st.session_state[KEY]
    ls.skip(p, qid)
    st.session_state.pop(f"lesson_retry_{qid}", None)
    save(p)


def _retry(qid: str) -> None:
    st.session_state[f"lesson_retry_{qid}"] = True


def _input(q: Question) -> None:
    """The answer box: radio buttons with nothing chosen, or an empty number box."""
    key = f"lesson_in_{q.qid}"
    if q.is_choice:
        st.radio("Your answer", range(len(q.choices)), index=None, key=key,
                 format_func=lambda i: q.choices[i], label_visibility="collapsed")
        return
    exact = not q.tolerance
    label = "Your answer" + (f" ({q.unit})" if q.unit else "")
    if note := q.tolerance_note():
        label += f", {note}"
    st.number_input(label, value=None, step=1.0 if exact else 0.5, format="%g", key=key,
                    width=260)


def _buttons(q: Question, answered: bool) -> None:
    row = st.container(horizontal=True)
    row.button("Check", key=f"lesson_check_{q.qid}", type="primary", on_click=_check,
               args=(q,), icon=":material/check:")
    row.button("Show me the answer" if answered else "Skip", key=f"lesson_skip_{q.qid}",
               on_click=_skip, args=(q.qid,))
    if warning := st.session_state.pop(f"lesson_warn_{q.qid}", None):
        st.warning(warning)


def ask(q: Question, p: Progress, number: int) -> bool:
    """Draw question `q`; True once the view that answers it may show (ls.resolved)."""
    attempt = p.answers.get(q.qid)
    answered = attempt is not None and (attempt.first is not None or attempt.skipped)
    with st.container(border=True, key=f"lesson_q_{q.qid}"):
        st.markdown(f"**Question {number} · predict first.** {q.prompt}")
        if not answered or st.session_state.get(f"lesson_retry_{q.qid}"):
            _input(q)
            _buttons(q, answered)
            return False
        _verdict(q, attempt)
    return ls.resolved(q, attempt)


def _verdict(q: Question, attempt: ls.Attempt) -> None:
    """What the learner is told once they answered: right, why; wrong, why it is tempting."""
    if attempt.first is None:  # skipped without an answer
        if not q.pending:
            st.info(f"Skipped. The answer: **{answer_text(q, q.answer)}**. {q.why}")
        return
    latest = attempt.last or attempt.first
    first_text = answer_text(q, attempt.first)
    if classroom.held():
        st.info(f"Your answer, kept: **{first_text}**. Your teacher releases the answers.")
        return
    if q.pending:
        st.info(f"Your answer, kept: **{first_text}**. The answer comes from your own "
                "measurement below.")
        return
    value = ls.parse_value(q, latest)
    counted = (f" Your first answer, {first_text}, is the one that counts."
               if latest != attempt.first else "")
    if ls.is_right(q, value):
        st.success(f"**Right: {answer_text(q, latest)}.** {q.why}{counted}")
        return
    st.error(f"**Not quite: {answer_text(q, latest)}.** {ls.feedback(q, value)}{counted}")
    if attempt.skipped or q.measured:
        st.info(f"The answer: **{answer_text(q, q.answer)}**. {q.why}")
        return
    row = st.container(horizontal=True)
    row.button("Try again", key=f"lesson_retry_{q.qid}_btn", on_click=_retry, args=(q.qid,),
               icon=":material/refresh:")
    row.button("Show me the answer", key=f"lesson_skip_{q.qid}", on_click=_skip,
               args=(q.qid,))


def names_line(names: list[str]) -> str:
    """The learner's names as a line of markdown, each shown as typed."""
    return ", ".join(f"**{plain(n)}**" for n in names)
