"""The Train page's settings widgets, kept in session state and mirrored in the URL."""

import streamlit as st

from nameclf.classify.presets import PRESETS
from nameclf.errors import DataError
from nameclf.ui import params
from nameclf.ui.cache import builtin_dataset, devices, is_downloaded
from nameclf.ui.state import dataset_name

WIDGET = "tw_"  # widget keys are WIDGET + the setting's URL key
LR_LABEL = lambda lr: f"{lr:g}"  # noqa: E731


def _dataset_from_url(values: dict, query: dict, notes: list[str]) -> None:
    """Switch the visitor's dataset to the URL's, if it can be loaded."""
    ss = st.session_state
    wanted = query.get("dataset")
    if wanted is None or values["dataset"] == ss["dataset_source"]:
        values["dataset"] = ss["dataset_source"]
        return
    if values["dataset"] == "upload":
        if ss.get("upload") is None:
            notes.append("the link names an uploaded dataset, which only its visitor has; "
                         "upload it on Home — using the built-in dataset meanwhile")
            values["dataset"] = ss["dataset_source"]
            return
    elif not is_downloaded(values["dataset"]):
        try:
            builtin_dataset(values["dataset"])
        except DataError as err:
            notes.append(f"{values['dataset']} could not be loaded ({err})")
            values["dataset"] = ss["dataset_source"]
            return
    ss["dataset_source"] = values["dataset"]


def load_settings() -> dict:
    """The visitor's settings: from the URL on a fresh session, else from session state."""
    ss = st.session_state
    if "train_values" not in ss:
        query = st.query_params.to_dict()
        values, notes = params.parse(query, devices())
        _dataset_from_url(values, query, notes)
        ss["train_values"], ss["url_notes"] = values, notes
    values = ss["train_values"]
    values["dataset"] = ss["dataset_source"]
    for p in params.PARAMS:  # seed widgets that are not on screen yet
        ss.setdefault(WIDGET + p.key, values[p.key])
    if ss[WIDGET + "device"] not in devices():
        ss[WIDGET + "device"] = devices()[0]
    return values


def use_preset(name: str, on_train_page: bool = True) -> None:
    """Set every setting a preset defines (also callable from another page)."""
    ss = st.session_state
    base = ss.get("train_values") or params.defaults()
    ss["train_values"] = params.from_preset(name, base)
    for p in params.PARAMS:
        if on_train_page:
            ss[WIDGET + p.key] = ss["train_values"][p.key]
        else:
            ss.pop(WIDGET + p.key, None)


def _on_preset() -> None:
    use_preset(st.session_state[WIDGET + "preset"])


def _on_dataset() -> None:
    choice = st.session_state[WIDGET + "dataset"]
    st.session_state["dataset_source"] = "upload" if choice.startswith("upload:") else choice


CELL_LABELS = {"rnn": "rnn", "lstm": "lstm", "gru": "gru",
               "ngram": "ngram (TF-IDF + logistic regression)"}
NGRAM_NOTE = ("The n-gram baseline counts character n-grams (1 to 4 letters, TF-IDF weighted) and "
              "fits a logistic regression in one go: the recurrent and optimizer settings do not "
              "apply, only word frequencies, the data, the split and the seed.")


def ngram_chosen() -> bool:
    """Whether the visitor picked the n-gram baseline (its widgets disable the others)."""
    return st.session_state.get(WIDGET + "cell") == "ngram"


def model_widgets() -> None:
    """Cell, sizes, layers, direction, embedding, dropout and the n-gram model mixed in."""
    k = WIDGET
    st.radio("Cell", params.BY_KEY["cell"].choices, key=k + "cell", format_func=CELL_LABELS.get,
             horizontal=True, help="The recurrent unit that reads a name one character at a "
                                   "time, or the classical baseline it has to beat.")
    off = ngram_chosen()
    if off:
        st.caption(NGRAM_NOTE)
    st.select_slider("Hidden size", params.HIDDEN, key=k + "hidden", disabled=off)
    st.slider("Layers", 1, 3, key=k + "layers", disabled=off)
    st.checkbox("Bidirectional (also read right to left)", key=k + "bidir", disabled=off)
    st.select_slider("Embedding size (0 = one-hot like the tutorial)", params.EMBEDDING,
                     key=k + "emb", disabled=off)
    st.slider("Dropout", 0.0, 0.5, step=0.05, key=k + "dropout", disabled=off)
    st.slider("Mix in the n-gram baseline (weight)", 0.0, 0.9, step=0.05, key=k + "mix",
              disabled=off, help="After training, fit the n-gram baseline on the same names "
                                 "and predict with the weighted mean of both models' "
                                 "probabilities (0 = the recurrent model alone). They err on "
                                 "different names, so when both are good the mix beats "
                                 "either: the best preset uses 0.5.")
    reads_ngrams = off or st.session_state[k + "mix"] > 0
    st.checkbox("Word frequencies (n-gram model)", key=k + "lexicon",
                disabled=not reads_ngrams,
                help="The n-gram model also reads how common the name is as a word in 12 "
                     "languages' text (the wordfreq lists): Keller in German, Veverka in "
                     "Czech, Ivanov in Russian. Outside knowledge, not in the training names: "
                     "on the PyTorch names it lifts the n-gram model from about 83.5% to "
                     "87% top-1. Applies to the n-gram model alone or mixed in.")


def optimizer_widgets() -> None:
    """Optimizer, learning rate, momentum, batch size and budget."""
    k, off = WIDGET, ngram_chosen()
    st.radio("Optimizer", params.OPTIMIZERS, key=k + "opt", horizontal=True, disabled=off)
    st.select_slider("Learning rate (log scale)", params.LRS, key=k + "lr",
                     format_func=LR_LABEL, disabled=off)
    st.slider("Momentum (SGD only)", 0.0, 0.99, step=0.01, key=k + "momentum",
              disabled=off or st.session_state[k + "opt"] != "sgd")
    st.select_slider("Batch size", params.BATCH, key=k + "batch", disabled=off)
    st.radio("Budget in", ("epochs", "steps"), key=k + "budget", horizontal=True, disabled=off)
    if st.session_state[k + "budget"] == "steps":
        st.number_input("Steps (batches)", 1, 20_000, key=k + "steps", disabled=off)
    else:
        st.number_input("Epochs (passes over the training names)", 0.1, 50.0, step=0.5,
                        key=k + "epochs", disabled=off)
    st.number_input("Time limit in seconds (0 = none)", 0, 3600, step=10, key=k + "time",
                    disabled=off)


def data_widgets() -> None:
    """Dataset, split, seed, device and batching mode."""
    k, ss = WIDGET, st.session_state
    options = [s for s in params.DATASETS[:-1] if is_downloaded(s)]
    options += [f"upload:{ss['upload'][0]}"] if ss.get("upload") else []
    if dataset_name() not in options:
        options.append(dataset_name())
    ss[k + "dataset"] = dataset_name()  # labels, not format_func: tests can set them
    st.selectbox("Dataset", options, key=k + "dataset", on_change=_on_dataset,
                 help="Upload your own or download the PyTorch names on Home.")
    st.radio("Split", ("names", "rows"), key=k + "split", horizontal=True,
             help="names: no name is in both training and test. rows: the tutorial's split, "
                  "where a name can be in both (test rows leak).")
    st.number_input("Seed", 0, 9999, key=k + "seed")
    st.selectbox("Device", devices(), key=k + "device")
    st.radio("Batching", params.BATCHING_MODES, key=k + "batching", horizontal=True,
             disabled=ngram_chosen(),
             help="packed: exact and fast. padded: exact for one direction. per-sample: the "
                  "tutorial's one-name-at-a-time loop, slow. On a GPU, padded can beat packed "
                  "(cuDNN runs the padding for free): the Speed race page measures both.")


def settings_form(disabled: bool = False) -> dict:
    """Render every setting; return the values and mirror them in the URL."""
    values = load_settings()
    for note in st.session_state.pop("url_notes", []):
        st.warning(f"From the link: {note}.")
    ss = st.session_state
    # a changed setting makes the box say so: the settings are no longer the preset's, though
    # what the form does not show (schedule, clipping, ...) still comes from it
    now = {p.key: ss[WIDGET + p.key] for p in params.PARAMS} | {"preset": ss[WIDGET + "preset"]}
    changed = params.differs_from_preset(now)
    label = lambda name: f"custom (from {name})" if changed and name == now["preset"] else name
    st.selectbox("Preset", tuple(PRESETS), key=WIDGET + "preset", on_change=_on_preset,
                 disabled=disabled, format_func=label,
                 help="seed-rnn / seed-lstm: the tutorial's setups. fast: our recommended one. "
                      "best: our most accurate, a bidirectional LSTM with the n-gram baseline, "
                      "reading word frequencies too, mixed in (about 1.5 minutes for 20,000 "
                      "names on a 2-core CPU).")
    cols = st.columns(3, gap="large")
    with cols[0]:
        st.markdown("**Model**")
        model_widgets()
    with cols[1]:
        st.markdown("**Optimization**")
        optimizer_widgets()
    with cols[2]:
        st.markdown("**Data and run**")
        data_widgets()
    values = {p.key: ss[WIDGET + p.key] for p in params.PARAMS}
    values["dataset"] = ss["dataset_source"]
    ss["train_values"] = values
    # a class link's parameters ride along (ui.classroom.URL_EXTRA), so a reload keeps the class
    query = params.to_query(values) | ss.get("train_url_extra", {})
    if st.query_params.to_dict() != query:
        st.query_params.from_dict(query)
    return values
