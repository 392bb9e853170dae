"""Predict: type names, see the model's top guesses and how sure it is."""

import streamlit as st

from nameclf.ui.page import init_page

init_page("Predict", ":material/online_prediction:")

from nameclf.ui import views, why  # noqa: E402  (torch, plotly: imported once there is a run)

MAX_NAMES = 20  # names predicted at once
EXAMPLE = "Nakamura\nSchmidt\nO'Brien\nKowalski"


def follow_typing(options: list[str]) -> None:
    """Keep the name picker on a typed name: the one name just typed or edited, the choice so
    far while it is still typed, else the first name. Set, not dropped, so the browser's
    selectbox shows the same name as the chart below it."""
    ss = st.session_state
    before = ss.get("predict_prefix_options")
    new = [n for n in options if n not in (before or ())]
    if before is not None and len(new) == 1:
        ss["predict_prefix_name"] = new[0]
    elif ss.get("predict_prefix_name") not in options:
        ss["predict_prefix_name"] = options[0]
    ss["predict_prefix_options"] = options


def by_character(run, names: list[str]) -> None:
    """How the guess changes as the model reads one of the names, character by character."""
    st.subheader("Prediction as each character is read")
    options = list(dict.fromkeys(names))
    if not options:
        st.info("Type a name above to see its prediction grow letter by letter.")
        return
    follow_typing(options)
    name = st.selectbox("Name", options, key="predict_prefix_name")
    from nameclf.charts import figures as plots
    from nameclf.classify.prefix import prefix_note, prefix_predictions

    steps = prefix_predictions(run, name, k=len(run.classes))
    st.plotly_chart(plots.prefix_lines(steps), key="predict_prefix",
                    config=plots.CHART_CONFIG)
    st.caption(f"Each point is the model's answer for the prefix read as if it were the whole "
               f"name; computed by {prefix_note(run)}.")
    why.why(run, name)


def word_frequencies(run, names: list[str]) -> None:
    """For a model that reads them: the word frequencies its n-gram part sees for each name."""
    if not run.model_config.lexicon or not names:
        return
    from nameclf.charts import figures as plots
    from nameclf.data import lexicon

    st.subheader("What the word frequencies say")
    names = list(dict.fromkeys(names))
    zipf = lexicon.load().lookup(names)
    st.plotly_chart(plots.word_frequencies(names, zipf, lexicon.LANGUAGE_NAMES),
                    key="predict_words", config=plots.CHART_CONFIG)
    st.caption("Zipf frequency of each name as a word in each language's text: log10 of its "
               "uses per billion words (3 is one in a million; blank: not in that language's "
               "list), from the wordfreq lists. The n-gram model reads these besides its "
               "character n-grams; the name is looked up folded to a-z, without spaces or "
               "hyphens.")


def main() -> None:
    st.title("Predict")
    why.follow_link()
    picked = views.run_picker("predict_run")
    if picked is None:
        views.no_runs_pointer()
        views.checkpoint_uploader("predict_checkpoint")
        st.stop()
    run_id, run = picked
    from nameclf.charts import figures as plots
    from nameclf.classify.pipeline import predict

    text = st.text_area("Names, one per line", EXAMPLE, key="predict_text", max_chars=2000)
    k = st.slider("How many guesses per name", 1, min(10, len(run.classes)), 3, key="predict_k")
    names = [line for line in text.splitlines() if line.strip()] or [text]
    if blank := sum(1 for line in text.strip().splitlines() if not line.strip()):
        st.caption(f"{blank} empty line{'s' if blank > 1 else ''} between the names "
                   f"skipped: one name per line.")
    if len(names) > MAX_NAMES:
        st.info(f"Showing the first {MAX_NAMES} of {len(names)} names.")
    preds = predict(run, names[:MAX_NAMES], k)
    cols = st.columns(2)
    for i, pred in enumerate(preds):
        with cols[i % 2]:
            st.markdown(f"**{views.plain(pred.name.strip()[:64]) or '(empty)'}**")
            if pred.note:
                st.info(pred.note)
            if pred.top:
                st.plotly_chart(plots.topk_bars(pred.top), key=f"predict_{i}",
                                config=plots.CHART_CONFIG)
    # a name answered by the training prior has no known character: nothing to read stepwise
    answered = [pred.name.strip() for pred in preds if pred.top and not pred.prior]
    by_character(run, answered)
    word_frequencies(run, answered)
    with st.expander("Load a checkpoint"):
        views.checkpoint_uploader("predict_checkpoint")


views.run_page(main)
