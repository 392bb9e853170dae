"""Visitors' labels and names are drawn by plotly.js as typed: never as HTML.

plotly.js reads a subset of HTML in every text it draws (`<b>`, `<br>`, `<a href>`, entities
such as `&lt;`), so every figure builder escapes visitors' text with `nameclf.charts.figures.plain`.
The unit tests check the built figures carry the escaped text and never the raw one; the last
test renders such figures with plotly.js in Chromium and reads the SVG text back.
"""

import json
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from nameclf.charts import figures as plots
from nameclf.charts import packing as ep
from nameclf.charts import race as rp
from nameclf.charts.figures import plain
from nameclf.charts.generate import per_label_bars
from nameclf.data.vocab import Vocab
from nameclf.lab.packing import Readout, walkthrough
from tests.conftest import CHROMIUM

HOSTILE = ["<b>Bold</b>", "<img src=x onerror=alert(1)>", "Ab<br>Cd", "&lt;ent&gt;", "AT&T",
           '<a href="javascript:alert(1)">x</a>']
HISTORY = dict(step=[1, 2], loss=[2.0, 1.5], running_loss=[2.0, 1.8], eval_step=[2],
               top1=[0.5], top2=[0.7])


def strings(fig: go.Figure) -> list[str]:
    """Every string in the figure's JSON: data, layout, hover templates, everything."""
    found: list[str] = []

    def walk(value) -> None:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v)
        elif hasattr(value, "tolist"):  # numpy arrays
            walk(value.tolist())

    walk(fig.to_plotly_json())
    return found


def assert_escaped(fig: go.Figure, labels=HOSTILE) -> None:
    texts = strings(fig)
    for label in labels:
        assert not any(label in t for t in texts), f"raw {label!r} in the figure"
        assert any(plain(label) in t for t in texts), f"{plain(label)!r} not in the figure"


def test_plain_escapes_what_plotly_reads_and_nothing_else():
    assert plain("<b>x</b>") == "&lt;b&gt;x&lt;/b&gt;"
    assert plain("&lt;") == "&amp;lt;"  # an entity typed by the visitor stays an entity
    assert plain("AT&T") == "AT&amp;T"
    assert plain("Müller 'O\"Neil'") == "Müller 'O\"Neil'"
    assert plain(3) == "3" and plain(None) == ""


def test_confusion_matrix_ticks_and_hover():
    frame = pd.DataFrame([[1] * len(HOSTILE)] * len(HOSTILE), index=HOSTILE, columns=HOSTILE)
    fig = plots.confusion_heatmap(frame)
    assert_escaped(fig)
    assert "%{y}" in fig.data[0].hovertemplate  # hover repeats the (escaped) category


def test_topk_bars_and_title():
    top = [(label, 0.1 * (i + 1)) for i, label in enumerate(HOSTILE)]
    assert_escaped(plots.topk_bars(top, title=HOSTILE[0]))
    assert plots.topk_bars(top).layout.title.text in ("", None)  # no title stays none


def test_prefix_lines_prefixes_and_legend():
    name = "<b>x"
    steps = [(name[: i + 1], [(label, 0.5) for label in HOSTILE]) for i in range(len(name))]
    fig = plots.prefix_lines(steps, top=len(HOSTILE), max_lines=len(HOSTILE))
    assert_escaped(fig, HOSTILE + [name])
    assert list(fig.data[0].x) == ["&lt;", "&lt;b", "&lt;b&gt;", "&lt;b&gt;x"]
    # each tick is the character just read, level: a long name cannot squash the chart
    assert list(fig.layout.xaxis.ticktext) == ["&lt;", "b", "&gt;", "x"]
    assert list(fig.layout.xaxis.tickvals) == list(fig.data[0].x)
    assert fig.layout.xaxis.tickangle == 0
    spaced = plots.prefix_lines([("a", [("X", 1.0)]), ("a ", [("X", 1.0)])])
    assert list(spaced.layout.xaxis.ticktext) == ["a", "␣"]


def test_curves_legend_and_titles():
    assert_escaped(plots.compare_curves({label: HISTORY for label in HOSTILE}, "loss"))
    assert_escaped(plots.compare_curves({label: HISTORY for label in HOSTILE}, "top1"))
    assert_escaped(plots.loss_curve(HISTORY, title=HOSTILE[1]), [HOSTILE[1]])
    assert_escaped(plots.accuracy_curve(HISTORY, title=HOSTILE[2]), [HOSTILE[2]])


def test_a_mixtures_final_accuracy_is_a_pair_of_stars_at_the_last_step():
    assert [t.name for t in plots.accuracy_curve(HISTORY).data] == ["top-1", "top-2"]
    fig = plots.accuracy_curve(HISTORY, mixed=(0.8, 0.9))
    stars = [(t.name, list(t.x), list(t.y), t.marker.symbol) for t in fig.data[2:]]
    assert stars == [("top-1 mixed", [2], [0.8], "star"), ("top-2 mixed", [2], [0.9], "star")]
    assert len(plots.accuracy_curve({}, mixed=(0.8, 0.9)).data) == 2  # no curve, no stars


def test_race_figures():
    speeds = {"per-sample": 10.0, "padded": 100.0, "packed": 120.0}
    fig = rp.speed_figure(speeds, title=HOSTILE[0])
    assert_escaped(fig, [HOSTILE[0]])
    assert "<br>" in fig.data[0].text[1]  # the builder's own line break stays markup


def explainer_data() -> dict:
    names = ["<i>", "Ab<sub>", "&#60;x", "Kim"]  # not `<b>`, `<br>`: the builders use those
    return walkthrough(names, Vocab.build(names))


def test_explainer_grid_onehot_and_packed_strip():
    data = explainer_data()
    names = data["names"][:3]  # the hostile ones
    grid = ep.grid_figure(data, ep.base_kinds(data), footer=data["batch_sizes"],
                          show_index=True)
    assert_escaped(grid, names + ["<pad>"])  # the legend's `<pad>` kind is text too
    cells = [c for row in grid.data[0].text for c in row]
    assert not any(c.startswith("<") for c in cells)  # a `<` typed is a cell `&lt;`
    assert any(c.startswith("&lt;<br>") for c in cells)  # the index line is still a break
    onehot = ep.onehot_figure(data, 0)
    texts = strings(onehot)
    assert "&lt;" in onehot.layout.xaxis.ticktext and "<" not in onehot.layout.xaxis.ticktext
    assert not any(t in ("<", ">") for t in texts)
    packed = ep.packed_figure(data)
    assert_escaped(packed, names)
    assert "<" not in packed.data[0].text[0] and "&lt;" in packed.data[0].text[0]


def test_explainer_readout_bars():
    result = Readout(names=HOSTILE, max_abs_diff=[0.1] * len(HOSTILE), per_sample_diff=0.0,
                     packed_top=[("a", 0.5)] * len(HOSTILE),
                     naive_top=[("a", 0.5)] * len(HOSTILE), hidden_size=8,
                     prob_shift=[0.0] * len(HOSTILE))
    assert_escaped(ep.diff_figure(result))


READ_SVG = """(id) => {
  const d = document.getElementById(id);
  const t = s => Array.from(d.querySelectorAll(s)).map(e => e.textContent);
  return {ticks: t('.xtick text, .ytick text'), legend: t('.legendtext'), title: t('.gtitle'),
          bold: d.querySelectorAll('.xtick tspan[style*="bold"], .legendtext tspan').length,
          links: d.querySelectorAll('svg a').length, imgs: d.querySelectorAll('img').length};
}"""


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")
def test_plotly_js_draws_the_escaped_labels_literally(tmp_path):
    """In Chromium: ticks, legend, title and hover show `<b>Bold</b>` as typed, not bold."""
    from playwright.sync_api import sync_playwright

    bars = per_label_bars({label: 2.0 + i / 10 for i, label in enumerate(HOSTILE)})
    curves = plots.compare_curves({label: HISTORY for label in HOSTILE[:2]}, "loss")
    curves.update_layout(title=plots.plain(HOSTILE[2]), showlegend=True)
    html = (pio.to_html(bars, include_plotlyjs=True, full_html=False, div_id="bars")
            + pio.to_html(curves, include_plotlyjs=False, full_html=False, div_id="curves"))
    page_file = tmp_path / "figures.html"
    page_file.write_text(f"<html><body>{html}</body></html>", encoding="utf-8")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 1000})
            dialogs: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(page_file.as_uri())
            page.wait_for_selector("#curves .legendtext", timeout=30_000)
            drawn = page.evaluate(READ_SVG, "bars")
            lines = page.evaluate(READ_SVG, "curves")
            page.hover("#bars .bars .point >> nth=0", force=True)
            page.wait_for_selector("#bars .hoverlayer text", timeout=10_000)
            hover = page.locator("#bars .hoverlayer text").all_text_contents()
        finally:
            browser.close()
    assert sorted(drawn["ticks"][: len(HOSTILE)]) == sorted(HOSTILE), json.dumps(drawn)
    assert sorted(lines["legend"]) == sorted(HOSTILE[:2])
    assert lines["title"] == [HOSTILE[2]]  # `<br>` shown, not a line break
    assert drawn["bold"] == 0 and drawn["links"] == 0 and drawn["imgs"] == 0
    assert any(label in " ".join(hover) for label in HOSTILE), hover
    assert not dialogs


def test_legends_sit_at_the_left_where_plotlys_toolbar_cannot_cover_them():
    for fig in (plots.loss_curve(HISTORY), plots.compare_curves({"a": HISTORY, "b": HISTORY},
                                                                "loss")):
        legend = fig.layout.legend
        assert (legend.x, legend.xanchor, legend.yanchor) == (0, "left", "bottom")
        assert fig.layout.margin.t >= 60  # room for the title above the legend
    assert plots.CHART_CONFIG == {"displayModeBar": False}


def test_token_grids_escape_the_visitors_names_and_keep_one_box_per_cell():
    from nameclf.charts.generate import mask_grid, packed_strip, shifted_grids

    names = ["<b>x</b>", "O'Neil"]
    data = {"names": names, "inputs": [["<sos>", "<", "b"], ["<sos>", "O", "'"]],
            "targets": [["<", "b", "<eos>"], ["O", "'", "<pad>"]],
            "cell_losses": [[1.0, 2.0, 0.5], [1.5, 0.2, 3.0]],
            "mask": [[True, True, True], [True, True, False]], "pad_share": 1 / 6,
            "batch_sizes": [2, 2, 1], "packed_targets": ["<", "O", "b", "'", "<eos>"],
            "sorted_names": names}
    inputs, targets = shifted_grids(data)
    for html in (inputs, targets, mask_grid(data), packed_strip(data)):
        assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html
        assert "<script" not in html
    assert inputs.count("<td title=") == 6 and "&lt;sos&gt;</td>" in inputs
    assert 'title="&lt;pad&gt;: 3.00 nats (padding: masked out)"' in mask_grid(data)
    strip = packed_strip(data)
    assert strip.count("<td title=") == 5 and "position in .data" in strip
    assert 'title="t=2: &lt;b&gt;x&lt;/b&gt;"' in strip
