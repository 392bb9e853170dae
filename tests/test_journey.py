"""A new visitor's first ten minutes, walked in real Chromium as one journey (issues 14, 16).

Home (an own file, then the recommended run, which trains at once with its curves in view) →
Data (its charts, a search, the leak of the names split) → Evaluate → Predict with odd names
and the per-character view → Compare to completion → Padding & packing, every step → Speed
race → Batch size & gradients (a run's gradient noise measured) → Generate (a generator
trained to the end with its live curve, another stopped; names of a label at another
temperature, judged by the first step's classifier) → Padding the
targets, every step → the Train link reopened in a new browser context → a checkpoint
downloaded and uploaded in another context → a file with bad lines.

Each step is a function of the shared `Journey`; STEPS lists them in order, so a new page
adds its own steps (JOURNEY_STEPS=name,name runs only those). After every step `look`
asserts what a person would see: no exception box, no apology, no raw float such as
15.100000, no "0 s left" while work goes on; and it saves a full-page screenshot to
$JOURNEY_SHOTS (default: a temporary folder).
The data is a made-up file of 900 names, so every run takes seconds even on a busy 2-core CI.
"""

import os
import random
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from nameclf.ui.generate_explain import STEPS as STEP_TITLES
from tests.conftest import CHROMIUM, tiny_names
from tests.test_browser import ARGS, EXCEPTION, server  # noqa: F401  (the fixture)

RAW_FLOAT = re.compile(r"\d\.\d{5,}")  # 15.100000, 0.612345: a number nobody formatted
ZERO_LEFT = re.compile(r"\b0 s left")
ODD_NAMES = "O'Brien\n\nnguyễn\nX Æ A-12\nMaximilian-Alexander Wolfeschlegelsteinhausen\n"
def journey_file() -> bytes:
    """900 made-up names whose ending gives the label away, and 60 long ones labelled at
    random, so that the model makes mistakes (on long names) for Evaluate to list."""
    rng = random.Random(14)
    noisy = ["".join(rng.choice("bdfgklmnprtaeiou") for _ in range(rng.randint(24, 34))).title()
             + f", {rng.choice(('Ski', 'Son', 'Ez'))}" for _ in range(60)]
    return tiny_names(300) + b"\n" + "\n".join(noisy).encode()


BAD_FILE = (b"Novak, Czech\nno separator on this line\nKelly,\n, Irish\nMurphy, Irish\n"
            b"Dvorak, Czech\nSmith, English\nJones, English\n")


@dataclass
class Journey:
    """What the steps share: the browser, the visitor's tab, and what they carry along."""

    browser: Browser
    page: Page
    base: str
    shots: Path
    seen: list[str] = field(default_factory=list)  # screenshots taken, in order
    link: str = ""  # the Train page's address after the recommended run
    checkpoint: Path | None = None


def main_text(page: Page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def settle(page: Page, timeout: float = 90_000) -> None:
    """The page has a title, its script has finished, and no spinner turns."""
    expect(page.locator("h1").first).to_be_visible(timeout=timeout)
    page.wait_for_timeout(300)
    idle = ('[data-testid="stApp"]:not([data-test-script-state="running"])'
            ':not([data-test-script-state="initial"])')
    expect(page.locator(idle)).to_have_count(1, timeout=timeout)
    expect(page.locator('[data-testid="stSpinner"]')).to_have_count(0, timeout=timeout)
    page.wait_for_timeout(300)


def look(j: Journey, name: str, page: Page | None = None) -> str:
    """Assert what a person would see is sound; save a screenshot; return the visible text."""
    page = page or j.page
    text = main_text(page)
    assert page.locator(EXCEPTION).count() == 0, f"{name}: an exception box"
    assert "Something went wrong" not in text, f"{name}: the page apologised"
    assert not RAW_FLOAT.search(text), f"{name}: raw float {RAW_FLOAT.search(text).group()}"
    path = j.shots / f"{len(j.seen) + 1:02d}_{name}.png"
    # Streamlit scrolls inside its main block: grow the window to the content for the shot
    size = page.viewport_size
    tall = page.locator('[data-testid="stMain"]').evaluate("e => e.scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": min(8000, max(tall,
                                                                            size["height"]))})
    page.wait_for_timeout(400)
    page.screenshot(path=str(path))
    page.set_viewport_size(size)
    j.seen.append(path.name)
    return text


def wait_while_busy(j: Journey, done: Callable[[str], bool], timeout: float,
                    busy_words: tuple[str, ...] = ("left", "Racing", "fitting")) -> str:
    """Poll the page until `done(text)`; meanwhile it must never say "0 s left"."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = main_text(j.page)
        if done(text):
            return text
        if any(w in text for w in busy_words):
            assert not ZERO_LEFT.search(text), f"'0 s left' while busy: {text[:300]}"
        j.page.wait_for_timeout(500)
    raise AssertionError(f"not done after {timeout:.0f} s: {main_text(j.page)[:500]}")


def sidebar(page: Page, label: str) -> None:
    """Switch page like a visitor does, keeping the session."""
    page.locator('[data-testid="stSidebar"]').get_by_role("link", name=label, exact=True).click()
    settle(page)


def in_view(page: Page, locator) -> bool:
    """Whether the element's top is inside the first screen, without scrolling."""
    box = locator.bounding_box()
    return box is not None and box["y"] < page.viewport_size["height"]


def home_recommended_run(j: Journey) -> None:
    """Home: an own file, the caveat, and the recommended run trained at once, curves in view."""
    j.page.goto(j.base)
    settle(j.page)
    text = look(j, "home")
    assert "not a person's nationality or ethnicity" in text
    j.page.get_by_text("Your own file").click()
    settle(j.page)
    j.page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        files=[{"name": "mine.txt", "mimeType": "text/plain", "buffer": journey_file()}])
    expect(j.page.get_by_text(re.compile(r"names in 3 labels from mine.txt"))).to_be_visible()
    settle(j.page)
    j.page.get_by_role("button", name="Train with the recommended settings").click()
    j.page.wait_for_url(re.compile("/Train"))
    bar = j.page.locator('[data-testid="stProgress"]').first
    expect(bar).to_be_visible(timeout=60_000)  # training started without another click
    assert in_view(j.page, bar), "the progress bar is below the first screen"
    look(j, "train_live")
    wait_while_busy(j, lambda t: re.search(r"run\d+-gru: completed", t) is not None, 180)
    settle(j.page)
    curves = j.page.locator('[data-testid="stPlotlyChart"]').first
    expect(curves).to_be_visible()
    assert in_view(j.page, curves), "the curves are below the first screen"
    look(j, "train_done")
    j.link = j.page.url


def data_page(j: Journey) -> None:
    """Data: the visitor's file in two HTML charts, its names searched, the leak measured."""
    sidebar(j.page, "Data")
    chart = j.page.locator('[data-testid="stHtml"]').filter(has_text="Names per label")
    bars = chart.locator("div[title$=' names']")
    expect(bars).to_have_count(3)  # Ski, Son and Ez, each a bar that is drawn, not empty
    tips = [bars.nth(i).get_attribute("title") for i in range(3)]
    assert sorted(t.split(":")[0] for t in tips) == ["Ez", "Ski", "Son"], tips
    assert all(bars.nth(i).bounding_box()["height"] > 20 for i in range(3))
    # to a screen reader the chart is one image, labelled with every bar's figures
    assert "Ski: " in chart.locator('[role="img"]').get_attribute("aria-label")
    lengths = j.page.locator('[data-testid="stHtml"]').filter(has_text="Name length")
    assert lengths.locator("div[title*=' characters: ']").count() >= 10
    text = look(j, "data")
    assert "mine.txt" in text and "Hygiene" in text
    j.page.get_by_text("Browse and search the names").click()
    type_in(j.page, "Search names or labels", "ski")
    expect(j.page.get_by_text(re.compile(r"Showing [\d,]+ rows"))).to_be_visible()
    j.page.get_by_test_id("stRadioGroup").get_by_text("names", exact=True).click()  # a name
    # on one side only
    settle(j.page)
    text = look(j, "data_names_split")
    assert re.search(r"\b0 of [\d,]+ \(0\.0%\)", text), text[-600:]


def evaluate(j: Journey) -> None:
    """Evaluate: the metrics and the mistakes of the run just trained."""
    sidebar(j.page, "Evaluate")
    text = look(j, "evaluate")
    assert "Top-1" in text and "Misclassified test names" in text
    expect(j.page.locator('[data-testid="stDataFrame"]').last).to_be_visible()


def predict(j: Journey) -> None:
    """Predict: odd names, an empty line, and the per-character view following the typing."""
    sidebar(j.page, "Predict")
    area = j.page.get_by_label("Names, one per line")
    area.fill(ODD_NAMES)
    area.press("Control+Enter")
    settle(j.page)
    text = look(j, "predict_odd_names")
    assert "1 empty line between the names skipped" in text
    picker = j.page.get_by_role("combobox", name="Name", exact=True)
    expect(picker).to_have_value("O'Brien")
    area.fill(ODD_NAMES + "Kowalski\n")  # one more name typed: the view follows it
    area.press("Control+Enter")
    settle(j.page)
    expect(picker).to_have_value("Kowalski")
    chart = j.page.locator('[data-testid="stPlotlyChart"]').last
    ticks = chart.locator(".xtick text").evaluate_all("els => els.map(e => e.textContent)")
    assert ticks == list("Kowalski"), ticks  # the chart reads the name the picker shows
    picker.click()
    picker.fill("Maximilian")  # as a person narrows the list down, then picks with Enter
    j.page.keyboard.press("Enter")
    settle(j.page)
    expect(picker).to_have_value("Maximilian-Alexander Wolfeschlegelsteinhausen")
    plot = chart.locator(".nsewdrag").first.bounding_box()  # the plot area itself
    whole = chart.bounding_box()
    assert plot["height"] > 0.5 * whole["height"], "a long name's labels squash the chart"
    look(j, "predict_long_name")


def compare(j: Journey) -> None:
    """Compare: the three cells and the n-gram baseline trained to completion."""
    sidebar(j.page, "Compare")
    j.page.get_by_role("button", name=re.compile("Train RNN, LSTM and GRU")).click()
    expect(j.page.locator('[data-testid="stProgress"]').first).to_be_visible(timeout=60_000)
    look(j, "compare_live")
    wait_while_busy(j, lambda t: len(re.findall(r"run\d+-(?:rnn|lstm|gru|ngram) · ", t)) >= 4,
                    240)
    settle(j.page)
    text = look(j, "compare_done")
    assert "0.000000" not in text and "None" not in text


def padding_and_packing(j: Journey) -> None:
    """Padding & packing: every step, Next after Next."""
    sidebar(j.page, "Padding and packing")
    for step in range(1, 7):
        text = look(j, f"padding_step_{step}")
        assert f"Step {step}" in text
        if step == 3:
            sorted_ = re.search(r"sorted_indices` = \*\*(\[[\d, ]+\])", text) or re.search(
                r"sorted_indices = (\[[\d, ]+\])", text)
            unsorted = re.search(r"unsorted_indices = (\[[\d, ]+\])", text)
            assert sorted_ and unsorted and sorted_.group(1) != unsorted.group(1), text[:800]
        if step == 6:
            assert "your latest trained recurrent run" in text
            assert "percentage points" in text
            break
        j.page.get_by_role("button", name="Next →").click()
        settle(j.page)


def speed_race(j: Journey) -> None:
    """Speed race at its defaults: the bars named, racing shown, the verdict computed."""
    sidebar(j.page, "Speed race")
    text = look(j, "race_before")
    assert "same names four ways" in text and "No race yet" in text
    waste = j.page.locator('[data-testid="stHtml"] img[src^="data:image/svg+xml"]')
    expect(waste).to_be_visible()  # the lines of the waste chart: an image that decoded
    assert waste.evaluate("i => i.complete && i.naturalWidth > 0")
    expect(j.page.get_by_text("padded, length-sorted batches")).to_be_visible()
    j.page.get_by_role("button", name="Start the race").click()
    expect(j.page.get_by_text(re.compile("Racing|Starting the race"))).to_be_visible(
        timeout=30_000)
    assert "No race yet" not in main_text(j.page)
    look(j, "race_live")
    text = wait_while_busy(j, lambda t: "Packing skipped the" in t, 180)
    settle(j.page)
    text = look(j, "race_done")
    assert "packed ÷ per-sample" in text


def batch_size_and_gradients(j: Journey) -> None:
    """The gradient half: the visitor's run measured, the numbers read off it."""
    sidebar(j.page, "Batch size and gradients")
    text = look(j, "gradients_before")
    assert "Measures your latest recurrent run" in text
    j.page.get_by_role("button", name="Measure").click()
    text = wait_while_busy(j, lambda t: "8 × 64 accumulated vs one 512" in t, 120)
    settle(j.page)
    text = look(j, "gradients_done")
    assert re.search(r"4× the batch \(16 → 64\) made the gradient's squared error [\d.]+× "
                     "smaller", text)


def shared_link(j: Journey) -> None:
    """The Train page's address, opened by someone else: the same settings."""
    context = j.browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        other = context.new_page()
        other.goto(j.link)
        settle(other)
        look(j, "shared_link", other)
        expect(other.get_by_role("combobox", name="Preset")).to_have_value("fast")
        assert "Start training" in main_text(other)
    finally:
        context.close()


def checkpoint_round_trip(j: Journey) -> None:
    """Download a checkpoint on Evaluate, upload it in another context, see it evaluated."""
    sidebar(j.page, "Evaluate")
    j.page.get_by_text("Download or load a checkpoint").click()
    with j.page.expect_download() as download:
        j.page.get_by_role("button", name="Download checkpoint").click()
    j.checkpoint = j.shots / download.value.suggested_filename
    download.value.save_as(j.checkpoint)
    context = j.browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        other = context.new_page()
        other.goto(f"{j.base}/Predict")
        settle(other)
        other.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
            str(j.checkpoint))
        settle(other)
        expect(other.get_by_label("Names, one per line")).to_be_visible(timeout=60_000)
        expect(other.get_by_role("combobox", name="Run")).to_have_value(j.checkpoint.stem)
        look(j, "checkpoint_uploaded", other)
    finally:
        context.close()


def bad_upload(j: Journey) -> None:
    """A file with bad lines: loaded, and its skipped lines listed with their reasons."""
    sidebar(j.page, "Home")
    j.page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        files=[{"name": "messy.txt", "mimeType": "text/plain", "buffer": BAD_FILE}])
    expect(j.page.get_by_text("Skipped lines")).to_be_visible(timeout=60_000)
    settle(j.page)
    text = look(j, "bad_upload")
    assert "messy.txt" in text


GEN_LINE = re.compile(r"step [\d,]+/[\d,]+ · [\d,]+ names/s")


def pick(page: Page, label: str, option: str) -> None:
    """Choose an option of a selectbox as a person does: open it, type, pick with Enter."""
    box = page.get_by_role("combobox", name=label, exact=True)
    box.click()
    box.fill(option)
    page.keyboard.press("Enter")
    settle(page)
    expect(box).to_have_value(option)


def type_in(page: Page, label: str, value: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")
    settle(page)


def train_generator(j: Journey, epochs: str) -> None:
    """Start gen-tiny with these epochs; return once its first step is on the page."""
    type_in(j.page, "Epochs", epochs)
    j.page.get_by_role("button", name="Train the generator").click()
    expect(j.page.get_by_text(GEN_LINE)).to_be_visible(timeout=120_000)
    text = main_text(j.page)
    assert "No generator yet" not in text, "'No generator yet' while one trains"
    assert not ZERO_LEFT.search(text), text[:300]


def generate_train(j: Journey) -> None:
    """Generate: gen-tiny trained to the end with its live bits-per-character curve, then a
    second one, during which Train refuses to start, stopped and kept."""
    sidebar(j.page, "Generate")
    text = look(j, "generate_empty")
    assert "No generator yet" in text
    pick(j.page, "Preset", "gen-tiny")
    mix = j.page.get_by_role("slider", name="Mix in the n-gram LM (weight)")
    mix.focus()
    for _ in range(4):  # 0.00 -> 0.20: the net and the n-gram LM mixed
        j.page.keyboard.press("ArrowRight")
    settle(j.page)
    expect(mix).to_have_attribute("aria-valuetext", "0.20")
    train_generator(j, "20")
    curve = j.page.locator('[data-testid="stPlotlyChart"]').first  # the live bpc curve
    expect(curve).to_be_visible(timeout=60_000)
    expect(curve.get_by_text("bits per character").first).to_be_attached()
    # the n-gram LM is fitted first: its line is there to beat while the net trains
    expect(curve.get_by_text(re.compile(r"n-gram LM \d\.\d{3}")).first).to_be_attached()
    look(j, "generate_live")
    wait_while_busy(j, lambda t: re.search(r"gen1-\w+: completed after", t) is not None, 180,
                    busy_words=("left", "fitting"))
    settle(j.page)
    text = look(j, "generate_done")
    assert "No generator yet" not in text and "Test bits per character" in text
    assert "The GRU alone" in text and "mixed with it (weight 0.2) the generator reaches" in text
    with j.page.expect_download() as download:  # its bytes are made on the click
        j.page.get_by_role("button", name="Download generator checkpoint").click()
    saved = j.shots / download.value.suggested_filename
    download.value.save_as(saved)
    from nameclf.generate.checkpoint import load as load_generator

    assert load_generator(saved).ngram_weight == 0.2  # the mixture, n-gram LM included
    expect(j.page.get_by_text("Novelty")).to_be_visible()
    train_generator(j, "200")
    sidebar(j.page, "Train")  # one job per visitor: Train refuses while the generator trains
    expect(j.page.get_by_text(re.compile("still training on Generate"))).to_be_visible()
    expect(j.page.get_by_role("button", name="Start training")).to_be_disabled()
    look(j, "train_refused")
    sidebar(j.page, "Generate")
    expect(j.page.get_by_text(GEN_LINE)).to_be_visible()  # its live panel, not "No generator"
    j.page.get_by_role("button", name="Stop").click()
    expect(j.page.get_by_text(re.compile(r"gen2-\w+: stopped after [\d,]+ steps"))).to_be_visible(
        timeout=60_000)
    settle(j.page)
    look(j, "generate_stopped")


def generate_names(j: Journey) -> None:
    """Generate: names of a label at another temperature, judged by the journey's classifier."""
    pick(j.page, "Generator", "gen1-gru")
    pick(j.page, "Label", "Son")
    slider = j.page.get_by_role("slider", name="Temperature")
    slider.focus()
    for _ in range(4):  # 0.80 -> 1.00, as a person nudges it with the arrow keys
        j.page.keyboard.press("ArrowRight")
    settle(j.page)
    expect(slider).to_have_attribute("aria-valuetext", "1.00")
    expect(j.page.get_by_text("Agreement")).to_be_visible()
    expect(j.page.get_by_text(re.compile(r"Judged by your latest classifier run"))).to_be_visible()
    text = look(j, "generate_names")
    assert re.search(r"Novelty\s+\d+%", text) and re.search(r"Agreement\s+\d+%", text), text
    type_in(j.page, "Start with (optional)", "Ba")
    cells = j.page.locator('[data-testid="stDataFrame"]').first.locator('[role="gridcell"]')
    names = cells.all_text_contents()[::4]  # name, new, classifier says, probability
    assert names and all(n.startswith("Ba") for n in names), names
    look(j, "generate_prefix")


def padding_the_targets(j: Journey) -> None:
    """Padding the targets: every step, computed by the generator just trained, and again
    for names typed by the visitor."""
    sidebar(j.page, "Padding the targets")
    # the generator chosen on Generate, not the newer one stopped after a few steps
    expect(j.page.get_by_text(re.compile(r"computed by your generator gen1-gru"))).to_be_visible()
    text = look(j, "targets_steps")
    for i, title in enumerate(STEP_TITLES, start=1):
        heading = j.page.get_by_text(f"Step {i} · {title}")
        expect(heading).to_be_visible()
        assert f"Step {i} · {title}" in text
    assert "the masked loss to the last digit" in text
    type_in(j.page, "Names (comma-separated, up to 8)", "Bob, Ferdinand, Al")
    # 4 + 10 + 3 = 17 real cells of 3 x 10
    expect(j.page.get_by_text(re.compile(r"30 cells, 17 of them real and 13 padding"))
           ).to_be_visible()
    look(j, "targets_own_names")


STEPS: list[Callable[[Journey], None]] = [
    home_recommended_run, data_page, evaluate, predict, compare, padding_and_packing, speed_race,
    batch_size_and_gradients, generate_train, generate_names, padding_the_targets, shared_link,
    checkpoint_round_trip, bad_upload]


@pytest.mark.timeout(900)
def test_a_new_visitors_journey(server):  # noqa: F811
    shots = Path(os.environ.get("JOURNEY_SHOTS") or tempfile.mkdtemp(prefix="journey-"))
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)
        j = Journey(browser, page, server, shots)
        try:
            # JOURNEY_STEPS=home_recommended_run,generate_train,...: a part of the walk
            wanted = os.environ.get("JOURNEY_STEPS", "").split(",")
            for step in [s for s in STEPS if wanted == [""] or s.__name__ in wanted]:
                started = time.monotonic()
                step(j)
                print(f"{step.__name__}: {time.monotonic() - started:.1f} s")
        finally:
            print(f"screenshots in {shots}: {', '.join(j.seen)}")
            browser.close()
