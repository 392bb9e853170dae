"""The HTML charts of the Data and Speed race pages' first views (nameclf.charts.html).

Exact geometry for tiny inputs (bar heights, marker positions, the SVG's points), every
visitor's text escaped, well-formed HTML, and nothing Streamlit's st.html would strip (no
inline <svg>). How they look is checked in Chromium by the journey (tests/test_journey.py).
"""

import math
import re
from html.parser import HTMLParser
from urllib.parse import unquote

import pytest

from nameclf.charts import figures as plots
from nameclf.charts import html as hc
from nameclf.charts import race as rp

HOSTILE = ["<b>Bold</b>", "<img src=x onerror=alert(1)>", 'Ab"Cd', "&lt;ent&gt;", "AT&T"]
VOID = {"img", "br"}


class Tags(HTMLParser):
    """Collects every start tag with its attributes and checks that tags nest."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open.pop() == tag, f"</{tag}> closes nothing"

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> Tags:
    tags = Tags()
    tags.feed(html)
    tags.close()
    assert tags.open == [], f"unclosed: {tags.open}"
    return tags


def heights(tags: Tags) -> list[float]:
    """The bars' heights in percent of the plot, left to right."""
    return [float(re.search(r"height:([\d.]+)%", a["style"]).group(1))
            for t, a in tags.tags if t == "div" and "title" in a and "height:" in a["style"]]


def test_nice_ticks_are_round_and_cover_the_top():
    assert hc.nice_ticks(3) == [0, 1, 2, 3]
    assert hc.nice_ticks(3845) == [0, 1000, 2000, 3000, 4000]
    assert hc.nice_ticks(0.63) == pytest.approx([0, 0.2, 0.4, 0.6, 0.8])
    assert hc.nice_ticks(10) == [0, 2, 4, 6, 8, 10]
    assert hc.nice_ticks(0) == [0.0, 1.0]


def test_columns_draw_one_bar_per_value_at_its_height_with_its_tooltip():
    tags = parse(hc.columns(["a", "b", "c"], [3, 1, 0], "T", "x", "y"))
    assert heights(tags) == pytest.approx([100, 100 / 3, 0], abs=1e-3)
    tips = [a["title"] for t, a in tags.tags if "height:" in a.get("style", "") and "title" in a]
    assert tips == ["a: 3", "b: 1", "c: 0"]
    text = " ".join(tags.text)
    assert all(tick in text for tick in ("0", "1", "2", "3"))  # the y ticks, as counts
    assert "T" in text and "x" in text and "y" in text


def test_class_counts_escape_every_label_and_sort_largest_first():
    tags = parse(plots.class_counts({label: 3 + i for i, label in enumerate(HOSTILE)}))
    assert {t for t, _ in tags.tags} == {"div", "span"}  # a visitor's `<b>`, `<img>`: text
    tips = [a["title"] for t, a in tags.tags if "title" in a and "height:" in a["style"]]
    assert tips == [f"{label}: {3 + i:,} names" for i, label in reversed(list(enumerate(HOSTILE)))]
    assert [t for t in tags.text if t in HOSTILE] == list(reversed(HOSTILE))  # labels as text


def test_name_lengths_has_a_bar_for_every_length_between_the_shortest_and_longest():
    tags = parse(plots.name_lengths(["Ab", "Abc", "Xy", "Jo", "Nakamura"]))
    tips = [a["title"] for t, a in tags.tags if "title" in a and "height:" in a["style"]]
    assert tips == ["2 characters: 3 names", "3 characters: 1 names"] + [
        f"{k} characters: 0 names" for k in range(4, 8)] + ["8 characters: 1 names"]
    assert heights(tags) == pytest.approx([100, 100 / 3, 0, 0, 0, 0, 100 / 3], abs=1e-3)


def test_many_labels_are_written_at_round_steps_so_that_they_never_overlap():
    tags = parse(hc.columns(list(range(1, 41)), [1] * 40, "T", "x", "y", upright=True))
    written = [int(t) for t in tags.text if t.isdigit() and int(t) > 1]
    assert written == [5, 10, 15, 20, 25, 30, 35, 40]  # 40 lengths: every 5th, by value
    turned = parse(hc.columns([f"L{i}" for i in range(100)], [1] * 100, "T", "x", "y"))
    shown = [t for t in turned.text if t.startswith("L")]
    assert shown == [f"L{i}" for i in range(0, 100, 5)]
    every = [a["title"] for t, a in turned.tags if a.get("title", "").startswith("L")
             and "height:" not in a["style"]]
    assert len(every) == 100  # each label's name stays its column's tooltip


def test_lines_put_each_marker_on_a_log_axis_and_draw_the_same_points_in_the_svg():
    html = hc.lines([1, 10, 100], {"up <s>": ([0.0, 0.5, 1.0], "#ef4444")}, "", "batch size",
                    "on <pad>", marked=10, marked_name="batch of 10")
    tags = parse(html)
    dots = [a for t, a in tags.tags if t == "div" and a.get("title", "").startswith("up")]
    left = [float(re.search(r"left:([\d.]+)%", d["style"]).group(1)) for d in dots]
    bottom = [float(re.search(r"bottom:([\d.]+)%", d["style"]).group(1)) for d in dots]
    assert left == pytest.approx([3, 50, 97]) and bottom == pytest.approx([0, 50, 100])
    assert [d["title"] for d in dots] == ["up <s> · batch size 1: 0%",
                                          "up <s> · batch size 10: 50%",
                                          "up <s> · batch size 100: 100%"]
    (img,) = [a for t, a in tags.tags if t == "img"]
    svg = unquote(img["src"].removeprefix("data:image/svg+xml,"))
    assert img["src"].startswith("data:image/svg+xml,")
    points = re.search(r'points="([^"]+)"', svg).group(1)
    assert points == "3.000,100.000 50.000,50.000 97.000,0.000"
    assert 'vector-effect="non-scaling-stroke"' in svg and "<script" not in svg
    assert "<svg" not in html  # st.html's sanitiser would drop it: only the image carries one
    marked = [a for t, a in tags.tags if a.get("title") == "batch of 10"]
    assert len(marked) == 1 and "left:50.000%" in marked[0]["style"]
    assert "on <pad>" in tags.text and "up <s>" in tags.text  # escaped, shown as typed


def test_a_marked_batch_outside_the_sizes_widens_the_axis():
    html = hc.lines([1, 10], {"a": ([0.1, 0.2], "#000")}, "", "b", "y", marked=100,
                    marked_name="m")
    tags = parse(html)
    lefts = [float(re.search(r"left:([\d.]+)%", a["style"]).group(1)) for t, a in tags.tags
             if a.get("title", "").startswith(("a ·", "m"))]
    assert sorted(lefts) == pytest.approx([3, 50, 97])  # 1, 10 and the marked 100


def test_the_waste_chart_draws_the_three_columns_and_the_chosen_batch():
    columns = rp.waste_columns([5, 3, 5, 3, 9, 1, 4], sizes=(1, 2, 4))
    tags = parse(rp.waste_chart(columns, 2))
    for name in rp.WASTE_COLORS:
        tips = [a["title"] for t, a in tags.tags if a.get("title", "").startswith(name + " ·")]
        assert tips == [f"{name} · batch size {b}: {v:.0%}"
                        for b, v in zip((1, 2, 4), columns[name])]
    assert "compute spent on <pad>" in tags.text and "batch of 2" in tags.text
    assert math.isclose(columns["padded, random batches"][0], 0.0)


def test_the_loss_bars_write_each_loss_on_its_bar_in_its_colour():
    from nameclf.charts.generate import loss_bars

    tags = parse(loss_bars({"masked": 3.0, "packed": 3.0, "unmasked": 2.5}))
    bars = [a for t, a in tags.tags if "title" in a and "height:" in a["style"]]
    assert [b["title"] for b in bars] == ["masked (padded, ignore_index): 3.0000 nats per cell",
                                          "packed: 3.0000 nats per cell",
                                          "unmasked (the mistake): 2.5000 nats per cell"]
    assert [re.search(r"background:(#\w+)", b["style"]).group(1) for b in bars] == [
        "#0068c9", "#29b09d", "#ff4b4b"]
    # 3.0 x 1.15 leaves room for the text on top: the axis goes to 4, the bars to 75%, 62.5%
    assert heights(tags) == pytest.approx([75, 75, 62.5])
    assert [t for t in tags.text if re.fullmatch(r"\d\.\d{4}", t)] == ["3.0000", "3.0000",
                                                                    "2.5000"]
    assert "unmasked (the mistake)" in tags.text  # the labels, written out under the bars


def test_a_screen_reader_gets_each_chart_as_one_image_with_every_figure_in_its_label():
    tags = parse(hc.columns(["a", "<b>"], [3, 1], "Names per label", "x", "names"))
    first = tags.tags[0]
    assert first[0] == "div" and first[1]["role"] == "img"
    assert first[1]["aria-label"] == "Names per label: a: 3; <b>: 1"
    lines = parse(hc.lines([1, 2], {"s": ([0.0, 0.5], "#000")}, "", "batch size", "waste"))
    assert lines.tags[0][1]["aria-label"] == ("waste by batch size: s · batch size 1: 0%; "
                                               "s · batch size 2: 50%")
