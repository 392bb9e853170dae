"""A class on the Lesson and Train pages: the learner's side of a teacher's class link.

`arrive` reads the class link from the Lesson page's address (once a session) and fixes the
dataset and seed; the lesson then asks `chapters`, `fixed_names`, `held` and reports through
`sent` and `reached`. On Train, `apply_train` keeps the fixed settings fixed and hides the
hidden ones, and `report_run` sends a finished run's settings and top-1. The teacher's side
(the panel and the class view) is `nameclf.ui.class_view`.
"""

from __future__ import annotations

import os

import streamlit as st

from nameclf.errors import DataError
from nameclf.lab import packing as ex
from nameclf.serve import classlink as cl
from nameclf.serve.classroom import UNKNOWN, ClassStore, MemoryStore, valid_token
from nameclf.ui import params
from nameclf.ui.cache import builtin_dataset, is_downloaded, server_wide
from nameclf.ui.train_form import WIDGET

LINK = "class_link"  # this session's ClassLink, once read from the address
LEARNER = "class_learner"  # this learner's random token
NOTE = "class_note"  # why an answer was not sent, shown once
REPORTED = "class_reported"  # Train run ids already sent
ALWAYS_FIXED = ("dataset", "seed")  # a class link always fixes these on Train
REDIS_ENV = "NAMECLF_REDIS_URL"  # set it to keep classes in Redis (several servers)
URL_EXTRA = "train_url_extra"  # query parameters Train keeps beside its settings (the class)


def make_store() -> ClassStore:
    """Redis when NAMECLF_REDIS_URL names one, else this process's memory."""
    if url := os.environ.get(REDIS_ENV):
        from nameclf.serve.redis_store import RedisStore

        return RedisStore.from_url(url)
    return MemoryStore()


def store() -> ClassStore:
    """The server's class store, made once."""
    return server_wide("class_store", make_store)


def settings() -> tuple[str, ...]:
    """Settings a teacher may hide or lock: the lesson's names, then Train's."""
    return (*cl.LESSON_SETTINGS,
            *(p.key for p in params.PARAMS if p.key not in ALWAYS_FIXED))


def link() -> cl.ClassLink | None:
    """This session's class link, or None."""
    return st.session_state.get(LINK)


def link_query() -> dict[str, str]:
    """The class link's parameters and the learner's token, to keep in the lesson's address."""
    k = link()
    return {} if k is None else {**cl.to_query(k), cl.LEARNER: st.session_state[LEARNER]}


def _fix_dataset(source: str) -> None:
    if not is_downloaded(source):
        try:
            builtin_dataset(source)
        except DataError as err:
            st.warning(f"The class's dataset could not be loaded ({err}); using the built-in.")
            return
    st.session_state["dataset_source"] = source


def arrive(chapters: tuple[int, ...]) -> None:
    """Before the lesson reads its dataset: take up the class link in the address, if any."""
    ss, query = st.session_state, st.query_params.to_dict()
    if cl.TEACHER in query:
        return  # the teacher link: the class view, no lesson
    if "cls" in query and (link() is None or link().class_id != query["cls"]):
        k, note = cl.parse(query, chapters, settings())
        if note:
            st.warning(note)
        if k is not None:
            ss[LINK] = k
            token = str(query.get(cl.LEARNER, ""))
            ss[LEARNER] = token if valid_token(token) else cl.new_learner()
            ss["lesson_train"] = {**ss.get("lesson_train", {}), "seed": k.seed}
            if store().config(k.class_id) is None:
                ss[NOTE] = UNKNOWN
            if "ch" not in query:
                st.query_params["ch"] = str(k.chapters[0])
            st.query_params.update(link_query())
    if (k := link()) is not None and ss.get("dataset_source") != k.dataset:
        _fix_dataset(k.dataset)


def chapters(found: tuple[int, ...]) -> tuple[int, ...]:
    """The chapters in the class's order, or the lesson's own."""
    k = link()
    return found if k is None else tuple(c for c in k.chapters if c in found)


def fixed_names(all_names: list[str]) -> list[str] | None:
    """The lesson's own names when the teacher fixed them (else None: the learner chooses)."""
    k = link()
    if k is None or "names" not in k.fixed():
        return None
    names = ex.default_names(all_names)
    if "names" not in k.hidden:
        st.caption("Your names, set by your teacher: " + ", ".join(names))
    return names


def reached(chapter: int | str) -> None:
    """Send the chapter the learner is in; show once why something was not sent."""
    k = link()
    if k is None:
        return
    why = store().reach(k.class_id, st.session_state[LEARNER], str(chapter))
    note = st.session_state.pop(NOTE, None) or why
    if note:
        st.info(note)
    else:
        st.caption("You are on your teacher's class link: your chapter and your first answer "
                   "to each question go to the class view, with no name.")


def sent(qid: str, text: str, right: bool | None, expected: str = "") -> None:
    """Send a learner's answer, and the right one's text, to the class (the first only)."""
    k = link()
    if k is not None:
        why = store().answer(k.class_id, st.session_state[LEARNER], qid, text, right, expected)
        if why:
            st.session_state[NOTE] = why


def held() -> bool:
    """Whether the teacher holds back the feedback on answers until they release it."""
    k = link()
    if k is None or k.feedback != "release":
        return False
    config = store().config(k.class_id)
    return config is not None and not config.get("released")


def _css(keys: tuple[str, ...], rule: str) -> str:
    return "".join(f".st-key-{WIDGET}{key} {{{rule}}}" for key in keys)


def _arrive_on_train() -> None:
    """A learner who reloads Train (or opens it first) keeps the class: its link rides in
    Train's address beside the settings (`URL_EXTRA`), as in the lesson's."""
    from nameclf.lab.lesson import CHAPTERS

    query = st.query_params.to_dict()
    if link() is not None or "cls" not in query or cl.TEACHER in query:
        return
    k, note = cl.parse(query, tuple(CHAPTERS), settings())
    if note:
        st.warning(note)
    if k is not None:
        token = str(query.get(cl.LEARNER, ""))
        st.session_state[LINK] = k
        st.session_state[LEARNER] = token if valid_token(token) else cl.new_learner()


def apply_train() -> None:
    """On Train, before its form: put back every fixed setting, hide the hidden ones."""
    _arrive_on_train()
    k = link()
    if k is None:
        return
    ss = st.session_state
    ss[URL_EXTRA] = link_query()  # train_form keeps these in Train's address
    values = params.defaults()
    values["seed"] = k.seed
    fixed = [key for key in (*ALWAYS_FIXED, *k.fixed()) if key in params.BY_KEY]
    _fix_dataset(k.dataset)
    for key in fixed:
        if key != "dataset":
            ss[WIDGET + key] = values[key]
        if "train_values" in ss:
            ss["train_values"][key] = ss["dataset_source"] if key == "dataset" else values[key]
    hidden = tuple(key for key in k.hidden if key in params.BY_KEY)
    locked = tuple(key for key in fixed if key not in hidden)
    st.markdown("<style>" + _css(hidden, "display: none") +
                _css(locked, "pointer-events: none; opacity: 0.6") + "</style>",
                unsafe_allow_html=True)
    st.info("Your teacher's class link sets " + ", ".join(locked) +
            (" (and hides some settings)" if hidden else "") + " on this page.")


def report_run(run_id: str, run) -> None:
    """Send a finished Train run's settings and top-1 to the class, once."""
    k = link()
    done = st.session_state.setdefault(REPORTED, set())
    if k is None or run_id in done or "top1" not in run.metrics:
        return
    done.add(run_id)
    values = st.session_state.get("train_values", {})
    shown = {key: values[key] for key in ("cell", "hidden", "layers", "emb", "opt", "lr",
                                          "batch", "batching", "seed") if key in values}
    store().add_run(k.class_id, {**shown, "top1": float(run.metrics["top1"])})
