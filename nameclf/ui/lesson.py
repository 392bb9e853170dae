"""The Lesson page's frame: the learner's names, the chapter list, Back and Next, the summary.

Chapters come from `nameclf.ui.lesson_chapters` (1-4), `nameclf.ui.lesson_gradients` (6) and
`nameclf.ui.lesson_jobs` (5, 7, 8).
"""

from __future__ import annotations

import contextlib

import streamlit as st
from streamlit.errors import StreamlitAPIException

from nameclf.data.dataset import NameDataset
from nameclf.lab import lesson as ls
from nameclf.lab import packing as ex
from nameclf.lab.lesson import CHAPTERS, SUMMARY, Progress, Question
from nameclf.ui import class_view, classroom
from nameclf.ui import lesson_chapters as input_side
from nameclf.ui import lesson_gradients as gradients
from nameclf.ui import lesson_jobs as jobs
from nameclf.ui.lesson_ask import KEY, NOTE, answer_text, go, progress, save
from nameclf.ui.lesson_chapters import Ctx
from nameclf.ui.views import plain

RENDER = {**input_side.RENDER, **gradients.RENDER, **jobs.RENDER}
NAMES_BOX = "lesson_names_box"
DEEPER = (  # the full pages, for going deeper after the lesson
    ("pages/6_Padding_and_packing.py", "Padding & packing: every step, any names",
     ":material/view_week:"),
    ("pages/7_Speed_race.py", "Speed race: your own settings and device", ":material/speed:"),
    ("pages/10_Batch_size_and_gradients.py", "Batch size & gradients: the noise, the "
     "batch-size race", ":material/stacked_line_chart:"),
    ("pages/2_Train.py", "Train: every setting, live curves", ":material/model_training:"),
    ("pages/3_Evaluate.py", "Evaluate: top-k, confusion, mistakes", ":material/fact_check:"),
    ("pages/9_Padding_the_targets.py", "Padding the targets: the output side",
     ":material/grid_on:"),
    ("pages/8_Generate.py", "Generate: train a generator, sample names", ":material/edit:"),
    ("pages/11_Pitfalls.py", "Pitfalls: batching bugs, each measured beside its fix",
     ":material/bug_report:"),
)


def chapters() -> tuple[int, ...]:
    """The chapters this build of the lesson has, in order."""
    return tuple(sorted(RENDER))


def questions(ctx: Ctx, chapter: int) -> list[Question]:
    """A chapter's questions, their answers computed from the learner's tensors."""
    if chapter in input_side.RENDER:
        return input_side.questions(ctx, chapter)
    if chapter in gradients.RENDER:
        return gradients.questions()
    return jobs.questions(ctx, chapter)


def first_numbers(found: tuple[int, ...]) -> dict[int, int]:
    """The number of each chapter's first question, counting through the whole lesson."""
    out, n = {}, 1
    for c in found:
        out[c] = n
        n += len(ls.QUESTION_IDS.get(c, ()))
    return out


def _use_names(ds: NameDataset) -> None:
    ss = st.session_state
    names, warning = ls.parse_names(ss.get(NAMES_BOX, ""), ds.ascii_fold)
    if warning:
        ss["lesson_names_warning"] = warning  # the names in use stay as they were
        return
    p: Progress = ss[KEY]
    if names != (p.names or ex.default_names(ds.names)):
        p.names, p.answers = names, {}  # new tensors: the questions start afresh
        ss["lesson_names_note"] = "New names: every question is asked afresh."
        save(p)


def learner_names(ds: NameDataset, p: Progress) -> list[str]:
    """The names every chapter uses: the learner's (from the address), else the defaults."""
    ss = st.session_state
    defaults = ex.default_names(ds.names)
    if p.names:
        names, warning = ls.parse_names(",".join(p.names), ds.ascii_fold)
        if warning:
            st.warning(plain(f"The names in this address were not used ({warning}); using "
                             "the lesson's own."))
            p.names = None
            save(p)
        else:
            defaults = names
    ss.setdefault(NAMES_BOX, ", ".join(defaults))
    with st.expander("Your names: " + ", ".join(plain(n) for n in defaults)):
        left, right = st.columns([5, 1], vertical_alignment="bottom")
        left.text_input("Type 2 to 8 names, separated by commas: every chapter uses them",
                        key=NAMES_BOX, max_chars=ls.MAX_NAMES_CHARS)
        right.button("Use these names", key="lesson_names_use", on_click=_use_names,
                     args=(ds,), width="stretch")
    if warning := ss.pop("lesson_names_warning", None):
        st.warning(plain(warning) + " Your names are unchanged.")
    if note := ss.pop("lesson_names_note", None):
        st.info(note)
    return defaults


def chapter_list(found: tuple[int, ...], p: Progress) -> None:
    """One button a chapter, ✓ when its questions are all answered; the summary last."""
    st.caption("Chapters")
    for c in found:
        mark = "✓" if ls.chapter_done(c, p) else "○"
        st.button(f"{mark} {c} · {ls.SHORT[c]}", key=f"lesson_go_{c}", help=CHAPTERS[c],
                  on_click=go, args=(c,),
                  type="primary" if p.chapter == c else "tertiary", width="stretch")
    st.button("Summary", key="lesson_go_end", on_click=go, args=(SUMMARY,),
              type="primary" if p.chapter == SUMMARY else "tertiary", width="stretch")


def back_next(found: tuple[int, ...], chapter: int) -> None:
    """← Back and Next →; Next after the last chapter opens the summary."""
    at = found.index(chapter)
    row = st.container(horizontal=True, horizontal_alignment="distribute")
    row.button("← Back", key="lesson_back", disabled=at == 0, on_click=go,
               args=(found[max(0, at - 1)],))
    last = at == len(found) - 1
    row.button("Finish: your summary →" if last else "Next →", key="lesson_next",
               on_click=go, args=(SUMMARY if last else found[at + 1],), type="primary")


STATUS_WORDS = {"right-first": "✓ right at first try", "right-retry": "✓ right after a retry",
                "wrong": "✗ wrong", "skipped": "skipped", "pending": "waiting for its measurement",
                "unanswered": "not answered"}


def summary(ctx: Ctx, found: tuple[int, ...]) -> None:
    """How each answer went, and the full pages for going deeper."""
    st.subheader("Your summary")
    if classroom.held():  # the class's feedback waits for the teacher
        st.info("Your answers are kept. Your teacher releases the answers: your summary shows "
                "them once they do.")
        st.button("← Back to the last chapter", key="lesson_back", on_click=go, args=(found[-1],))
        return
    p = ctx.progress
    rows, every = [], []
    for c in found:
        for i, q in enumerate(questions(ctx, c)):
            every.append(q)
            attempt = p.answers.get(q.qid)
            first = attempt.first if attempt else None
            right = "—" if q.pending else answer_text(q, q.answer)
            rows.append(f"| {ctx.first[c] + i} | {c} · {CHAPTERS[c]} | {answer_text(q, first)} "
                        f"| {right} | {STATUS_WORDS[ls.status(q, attempt)]} |")
    counts = ls.tally(every, p)
    tiles = st.columns(4)
    tiles[0].metric("Right at first try", f"{counts['right-first']} of {len(every)}")
    tiles[1].metric("Right after a retry", counts["right-retry"])
    tiles[2].metric("Skipped", counts["skipped"])
    tiles[3].metric("Wrong or open", counts["wrong"] + counts["unanswered"] + counts["pending"])
    st.markdown("| # | chapter | your first answer | right answer | how |\n"
                "|---:|---|---|---|---|\n" + "\n".join(rows))
    take_home()
    st.markdown("**Going deeper.** Every view of the lesson is a page of this app with every "
                "setting open:")
    for path, label, icon in DEEPER:
        with contextlib.suppress(StreamlitAPIException):  # a page run alone has no page list
            st.page_link(path, label=label, icon=icon)
    st.button("← Back to the last chapter", key="lesson_back", on_click=go, args=(found[-1],))


def take_home() -> None:
    """The learner's latest recurrent run as a plain-PyTorch notebook, to run and change."""
    from nameclf.ui.gradients import recurrent_run
    from nameclf.ui.views import download_notebook

    found = recurrent_run()
    if found is None:
        return
    run_id, run = found
    st.markdown(f"**Take it home.** Your run **{run_id}** as a notebook in plain PyTorch: the "
                "same data, padding and packing, model and training loop, without this app.")
    download_notebook(run_id, run, key="lesson_notebook")


def main(ds: NameDataset) -> None:
    """The whole page below its title."""
    if class_view.teacher_view():  # a teacher link: the class view instead of the lesson
        return
    found = classroom.chapters(chapters())
    p = progress(found)
    if note := st.session_state.pop(NOTE, None):
        st.warning(note)
    classroom.reached(p.chapter)
    names = classroom.fixed_names(ds.names) or learner_names(ds, p)
    class_view.teacher_panel(chapters())
    ctx = Ctx(ds, names, p, first_numbers(found))
    side, body = st.columns([1, 3], gap="large")
    with side:
        chapter_list(found, p)
    with body:
        if p.chapter == SUMMARY:
            summary(ctx, found)
            return
        st.subheader(f"Chapter {p.chapter} · {CHAPTERS[p.chapter]}")
        RENDER[p.chapter](ctx, questions(ctx, p.chapter))
        st.divider()
        back_next(found, p.chapter)
