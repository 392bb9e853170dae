"""`import nameclf` and the app's Home page load no torch; every public name still resolves.

Each check runs in a fresh interpreter: this test process has imported torch long ago.
Behaviour only; how fast the first page is goes in bench/app_targets.py.
"""

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

HOME_MODULES = ["nameclf.ui.page", "nameclf.ui.state", "nameclf.ui.nav", "nameclf.ui.home",
                "nameclf.ui.views", "nameclf.ui.cache", "nameclf.device"]


def fresh(code: str) -> dict:
    """Run `code` in a new interpreter at the repo root; it prints one JSON line last."""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_nameclf_loads_no_submodule_and_no_torch():
    got = fresh("""
import json, sys
import nameclf
from nameclf import DEFAULT_SOURCE, DataError, load_dataset
print(json.dumps({"torch": "torch" in sys.modules,
                  "loaded": sorted(m for m in sys.modules if m.startswith("nameclf."))}))
""")
    assert not got["torch"]
    # the data package's loader and the light helpers it reads files with (issue 15's columns,
    # report and text repair), nothing that needs torch
    assert got["loaded"] == ["nameclf.data", "nameclf.data.columns", "nameclf.data.dataset",
                             "nameclf.data.report", "nameclf.data.textfix", "nameclf.data.vocab",
                             "nameclf.errors"]


def test_every_public_name_resolves_to_its_submodules_object():
    got = fresh("""
import importlib, json, sys
import nameclf
names = {}
for name in nameclf.__all__:
    value = getattr(nameclf, name)
    home = importlib.import_module("nameclf." + nameclf._WHERE[name])
    names[name] = value is getattr(home, name)
ns = {}
exec("from nameclf import *", ns)
print(json.dumps({"names": names, "star": sorted(set(nameclf.__all__) - set(ns)),
                  "dir": sorted(set(nameclf.__all__) - set(dir(nameclf)))}))
""")
    assert got["names"] and all(got["names"].values()), got["names"]
    assert got["star"] == [] and got["dir"] == []


def test_unknown_names_still_raise_attribute_error():
    import nameclf

    with pytest.raises(AttributeError):
        nameclf.no_such_name  # noqa: B018
    with pytest.raises(ImportError):
        exec("from nameclf import no_such_name", {})


@pytest.mark.parametrize("first", ["import nameclf.classify.pipeline", "from nameclf import train"])
def test_train_and_evaluate_are_the_functions_whatever_is_imported_first(first):
    """nameclf.train and nameclf.evaluate are the functions, whichever import came first: the
    modules that define them live in nameclf.classify, so nothing can shadow them."""
    got = fresh(f"""
import json, sys, types
{first}
import nameclf, nameclf.classify.train, nameclf.classify.evaluate
from nameclf import evaluate, train
print(json.dumps({{"attr": [isinstance(nameclf.train, types.FunctionType),
                            isinstance(nameclf.evaluate, types.FunctionType)],
                  "from": [train is sys.modules["nameclf.classify.train"].train,
                           evaluate is sys.modules["nameclf.classify.evaluate"].evaluate]}}))
""")
    assert got == {"attr": [True, True], "from": [True, True]}


def test_the_home_pages_modules_import_no_torch_or_pandas():
    got = fresh(f"""
import json, sys
for name in {HOME_MODULES!r}:
    __import__(name)
print(json.dumps({{m: m in sys.modules for m in ("torch", "pandas", "nameclf.classify.pipeline")}}))
""")
    assert got == {"torch": False, "pandas": False, "nameclf.classify.pipeline": False}


def test_the_home_page_renders_without_torch_and_names_the_right_device():
    """Home's whole script runs without torch (on a CPU-only build), its device line true."""
    got = fresh("""
import json, sys
from streamlit.testing.v1 import AppTest
from nameclf.ui import state
state.PRELOADED = ()  # the page's background preload would import torch after the page
at = AppTest.from_file("streamlit_app.py", default_timeout=120).run()
torch_loaded = "torch" in sys.modules
from nameclf.device import cpu_only_build, describe
from nameclf.ui.cache import device
print(json.dumps({"torch": torch_loaded, "cpu_only": cpu_only_build(),
                  "exceptions": [e.value for e in at.exception],
                  "title": [t.value for t in at.title],
                  "lines": [m.value for m in at.markdown if "Training runs on" in m.value],
                  "want": f"Training runs on **{describe(device())}**."}))
""")
    assert got["exceptions"] == [] and got["title"]
    assert got["lines"] == [got["want"]]
    if got["cpu_only"]:
        assert not got["torch"]


def test_cpu_only_build_agrees_with_torch_loaded_or_not():
    import torch

    from nameclf.device import cpu_only_build

    truth = (sys.platform != "darwin" and torch.version.cuda is None
             and torch.version.hip is None)
    assert cpu_only_build() == truth  # torch loaded: asks torch.version
    got = fresh("""
import json, sys
from nameclf.device import cpu_only_build
print(json.dumps({"cpu_only": cpu_only_build(), "torch": "torch" in sys.modules}))
""")
    assert got == {"cpu_only": truth, "torch": False}  # not loaded: reads torch/version.py


def test_preload_imports_torch_once_in_one_background_thread():
    got = fresh("""
import json, sys
from nameclf.ui import state
before = "torch" in sys.modules
state.preload_torch()
first = state._preloader
state.preload_torch()
same = state._preloader is first
first.join(120)
print(json.dumps({"before": before, "same": same, "daemon": first.daemon,
                  "torch": "torch" in sys.modules, "emojis": "streamlit.emojis" in sys.modules,
                  "usable": int(sys.modules["torch"].zeros(2).shape[0])}))
""")
    assert got == {"before": False, "same": True, "daemon": True, "torch": True, "emojis": True,
                   "usable": 2}


def test_python_dash_m_nameclf_still_works():
    out = subprocess.run([sys.executable, "-m", "nameclf", "explain", "Shyam", "Ram", "--json"],
                         cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["batch_sizes"] == [2, 2, 2, 1, 1]


def test_a_shared_train_link_draws_its_form_without_torch():
    """/Train?… as a visitor's first page: the whole form, from the link, before torch loads."""
    got = fresh("""
import json, sys
from streamlit.testing.v1 import AppTest
from nameclf.ui import state
state.PRELOADED = ()  # the page's background preload would import torch after the page
at = AppTest.from_file("pages/2_Train.py", default_timeout=120)
at.query_params.update({"cell": "gru", "hidden": "64"})
at.run()
torch_loaded = "torch" in sys.modules
from nameclf.device import cpu_only_build
print(json.dumps({"torch": torch_loaded, "cpu_only": cpu_only_build(),
                  "exceptions": [e.value for e in at.exception],
                  "errors": [e.value for e in at.error],
                  "cell": at.radio(key="tw_cell").value,
                  "hidden": at.select_slider(key="tw_hidden").value,
                  "start": [b.disabled for b in at.button if b.label == "Start training"]}))
""")
    assert got["exceptions"] == [] and got["errors"] == []
    assert (got["cell"], got["hidden"], got["start"]) == ("gru", 64, [False])
    if got["cpu_only"]:
        assert not got["torch"]


# pages whose first view draws no table: pandas (about 0.6 s) loads with the first one (the
# Data page draws its tables once their expanders are opened)
NO_PANDAS = ("pages/1_Data.py", "pages/6_Padding_and_packing.py", "pages/7_Speed_race.py")
# pages whose first view draws no plotly chart: the browser then loads no plotly.js (about
# 0.4 s of a first render on 2 cores); their charts are HTML (nameclf.charts.html)
NO_PLOTLY = ("pages/1_Data.py", "pages/7_Speed_race.py")


@pytest.mark.parametrize("page", ["pages/3_Evaluate.py", "pages/4_Predict.py",
                                  "pages/5_Compare.py", *NO_PANDAS])
def test_a_first_request_without_runs_renders_without_torch(page):
    """A fresh visitor's Data, Evaluate, Predict, Compare, Padding & packing (its first step)
    and Speed race need no torch to be drawn (a CPU-only build): it loads once there is a run,
    a race or step 6's model; Data (its tables are drawn once opened), the first step and a
    race not yet run need no pandas either, and Data and Speed race draw no plotly chart
    (bench/first_render.py)."""
    got = fresh(f"""
import json, sys
from streamlit.testing.v1 import AppTest
from nameclf.device import cpu_only_build
at = AppTest.from_file({page!r}, default_timeout=120).run()
print(json.dumps({{"torch": "torch" in sys.modules, "cpu_only": cpu_only_build(),
                  "pandas": "pandas" in sys.modules, "plotly": len(at.get("plotly_chart")),
                  "html": len(at.get("html")),
                  "exceptions": [e.value for e in at.exception],
                  "title": [t.value for t in at.title]}}))
""")
    assert got["exceptions"] == [] and got["title"]
    if page in NO_PLOTLY:
        assert got["plotly"] == 0 and got["html"] >= 1
    if got["cpu_only"]:
        assert not got["torch"]
    if page in NO_PANDAS:
        assert not got["pandas"]


def test_padding_the_targets_draws_its_table_without_pandas():
    """The walkthrough runs a net (torch), but its one table is markdown: no pandas; and its
    first view draws no plotly chart."""
    got = fresh("""
import json, sys
from streamlit.testing.v1 import AppTest
at = AppTest.from_file("pages/9_Padding_the_targets.py", default_timeout=120).run()
table = [m.value for m in at.markdown if m.value.startswith("| step t |")]
print(json.dumps({"pandas": "pandas" in sys.modules, "table": table,
                  "plotly": len(at.get("plotly_chart")),
                  "exceptions": [e.value for e in at.exception]}))
""")
    assert got["exceptions"] == [] and not got["pandas"]
    assert got["plotly"] == 0  # its grids and loss bars are HTML: no plotly.js to load
    (table,) = got["table"]
    rows = table.splitlines()
    assert rows[0] == "| step t | fed (teacher forcing) | true next | net's guess | p(true next) |"
    assert rows[2].startswith("| 0 | \\<sos\\> | ") and rows[2].endswith("% |")


TARGETS_VIEW = """
import json, sys
from streamlit.testing.v1 import AppTest
at = AppTest.from_file("pages/9_Padding_the_targets.py", default_timeout=120)
{setup}
at.run()
print(json.dumps({{"torch": "torch" in sys.modules, "exceptions": [e.value for e in at.exception],
                  "steps": [h.value for h in at.subheader],
                  "text": [m.value for m in at.markdown][-1],
                  "caption": [c.value for c in at.caption][0]}}))
"""


def test_padding_the_targets_first_view_is_kept_on_disk_and_needs_no_torch(tmp_path,
                                                                          monkeypatch):
    """A new visitor's walkthrough (an untrained net, the default names of a built-in
    dataset) is computed once, kept as JSON, and drawn from it without torch; an upload's
    is never written there."""
    from nameclf.device import cpu_only_build

    monkeypatch.setenv("NAMECLF_CACHE", str(tmp_path))
    first = fresh(TARGETS_VIEW.format(setup=""))
    assert first["torch"] and first["exceptions"] == []
    assert [p.name.startswith("targets-walkthrough-") for p in tmp_path.glob("targets-*")] == [True]
    again = fresh(TARGETS_VIEW.format(setup=""))
    assert again["exceptions"] == [] and again["steps"] == first["steps"]
    assert again["text"] == first["text"] and again["caption"] == first["caption"]
    assert "untrained generator" in again["caption"]
    if cpu_only_build():
        assert not again["torch"]
    for old in tmp_path.glob("targets-*"):
        old.unlink()
    upload = """
from tests.conftest import use_tiny, tiny_names
use_tiny(at, tiny_names())"""
    mine = fresh(TARGETS_VIEW.format(setup=upload))
    assert mine["exceptions"] == [] and mine["torch"]
    assert not list(tmp_path.glob("targets-*"))  # a visitor's data stays theirs
