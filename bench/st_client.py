"""A small Streamlit client that speaks the app's own websocket protocol, for load tests.

It does what the browser does on the wire, and nothing else: it connects to
`/_stcore/stream` (subprotocol `streamlit`, a same-origin `Origin` header), asks for a script
run with a `BackMsg.rerun_script` (page name and query string as the address bar would give
them), reads the `ForwardMsg`s back (deltas, `script_finished`, `session_status_changed`), and
honours fragment timers (`auto_rerun` / `stop_auto_rerun`) as the frontend does, so a
`st.fragment(run_every=...)` progress panel keeps polling. Pressing a button sends one rerun
with that button's `trigger_value`; other widgets keep the values the server already holds.

It draws nothing and runs no JavaScript, so eight sessions cost the machine almost nothing
next to the server they load. Elements are reduced to text (`text_format` of each delta) for
`wait_for(regex)`; buttons and select boxes are kept whole for `click` and `options`.
"""

import asyncio
import contextlib
import re
import time

from google.protobuf import text_format
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from websockets.asyncio.client import connect

FINISHED = ForwardMsg.ScriptFinishedStatus


class ScriptError(RuntimeError):
    """The page showed an exception element."""


class Session:
    """One visitor: one websocket, one Streamlit session."""

    def __init__(self, base: str, name: str = "session"):
        self.base, self.name = base.rstrip("/"), name
        self.ws = None
        self.page, self.query = "", ""
        self.page_hash = ""  # the page's script hash, once the server has named it
        self.texts: list[str] = []  # every element's text since the last request
        self.log: list[str] = []  # every element's text since connecting
        self.elements: dict[tuple, object] = {}  # delta path -> Element, on this page
        self.running = False
        self.full_runs = 0  # full script runs, started after a request, finished successfully
        self._mine = True
        self.exceptions: list[str] = []
        self._finished = asyncio.Event()
        self._timers: dict[str, asyncio.Task] = {}
        self._armed: set[str] = set()  # fragments whose timer was (re)set during this run
        self.kinds: list[str] = []  # ForwardMsg types received, for debugging
        self._reader: asyncio.Task | None = None
        self.closed = False

    async def connect(self) -> "Session":
        url = self.base.replace("http", "ws", 1) + "/_stcore/stream"
        self.ws = await connect(url, subprotocols=["streamlit"], origin=self.base,
                                max_size=2**26, open_timeout=30, ping_interval=None,
                                compression=None, proxy=None)
        self._reader = asyncio.create_task(self._read(), name=f"{self.name}-read")
        return self

    async def close(self) -> None:
        """Close the websocket, as closing the tab does: the server ends the session."""
        self.closed = True
        for task in self._timers.values():
            task.cancel()
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader

    # -- what goes to the server -------------------------------------------------------------

    async def _send_rerun(self, widgets=(), fragment_id: str = "", auto: bool = False) -> None:
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = self.query
        if self.page_hash:  # as the frontend does after the first run of a page
            state.page_script_hash = self.page_hash
        else:
            state.page_name = self.page
        state.is_auto_rerun = auto
        if fragment_id:
            state.fragment_id = fragment_id
        state.widget_states.SetInParent()
        for widget in widgets:
            state.widget_states.widgets.append(widget)
        await self.ws.send(msg.SerializeToString())

    async def open(self, page: str = "", query: str = "", timeout: float = 120) -> float:
        """Go to a page (by its URL name, "" for Home) and wait for its run; seconds taken."""
        self.page, self.query, self.page_hash = page, query, ""
        self.elements = {}  # another page is drawn afresh (fragment runs redraw only a part)
        for task in self._timers.values():  # the old page's fragments stop polling
            task.cancel()
        self._timers = {}
        return await self._rerun_and_wait((), timeout)

    async def click(self, label: str, timeout: float = 120) -> float:
        """Press the button with this label (a trigger, like a click); seconds to settle."""
        button = self.button(label)
        if button is None:
            raise AssertionError(f"{self.name}: no button {label!r} on /{self.page}")
        if button.disabled:
            raise AssertionError(f"{self.name}: button {label!r} is disabled")
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        return await self._rerun_and_wait([WidgetState(id=button.id, trigger_value=True)],
                                          timeout)

    async def answer(self, key: str, value, check: str, timeout: float = 120) -> float:
        """Set the radio or number box whose key is `key` and press the button whose key is
        `check`, in one rerun, as a visitor's choice then click does; seconds to settle."""
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        box, button = self.widget(key), self.widget(check)
        if box is None or button is None:
            keys = sorted(getattr(e, e.WhichOneof("type")).id.rsplit("-", 1)[-1]
                          for e in self.elements.values()
                          if e.WhichOneof("type") in ("radio", "number_input", "button"))
            raise AssertionError(f"{self.name}: no widget {key!r} or {check!r} on /{self.page} "
                                 f"(there: {', '.join(keys)})")
        kind = box.WhichOneof("type")
        state = (WidgetState(id=box.radio.id, int_value=int(value)) if kind == "radio" else
                 WidgetState(id=box.number_input.id, double_value=float(value)))
        return await self._rerun_and_wait(
            [state, WidgetState(id=button.button.id, trigger_value=True)], timeout)

    async def choose(self, values: dict, check: str, timeout: float = 120) -> float:
        """Set several widgets by key (a radio's index, a number, or the shown options of a
        multiselect or select slider, as strings) and press the button whose key is `check`,
        in one rerun; seconds to settle."""
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        states = []
        for key, value in values.items():
            element = self.widget(key)
            if element is None:
                raise AssertionError(f"{self.name}: no widget {key!r} on /{self.page}")
            kind = element.WhichOneof("type")
            wid = getattr(element, kind).id
            if kind == "radio":
                states.append(WidgetState(id=wid, int_value=int(value)))
            elif kind == "number_input":
                states.append(WidgetState(id=wid, double_value=float(value)))
            else:  # multiselect, select slider: the options as shown
                state = WidgetState(id=wid)
                state.string_array_value.data.extend(str(v) for v in value)
                states.append(state)
        button = self.widget(check)
        if button is None:
            raise AssertionError(f"{self.name}: no button {check!r} on /{self.page}")
        states.append(WidgetState(id=button.button.id, trigger_value=True))
        return await self._rerun_and_wait(states, timeout)

    async def click_key(self, key: str, timeout: float = 120) -> float:
        """Press the button whose key is `key`; seconds to settle."""
        from streamlit.proto.WidgetStates_pb2 import WidgetState

        button = self.widget(key)
        if button is None:
            raise AssertionError(f"{self.name}: no button {key!r} on /{self.page}")
        return await self._rerun_and_wait(
            [WidgetState(id=button.button.id, trigger_value=True)], timeout)

    def widget(self, key: str):
        """The element of the widget whose user key is `key` (its id ends with it)."""
        for element in self.elements.values():
            kind = element.WhichOneof("type")
            if kind in ("radio", "number_input", "button", "multiselect", "slider") and getattr(
                    element, kind).id.endswith(f"-{key}"):
                return element
        return None

    async def _rerun_and_wait(self, widgets, timeout: float) -> float:
        started = time.monotonic()
        self.texts, self.exceptions = [], []
        self._finished.clear()
        target = self.full_runs + 1
        self._mine = False  # set once a run starts after this request: only its end counts
        await self._send_rerun(widgets)
        deadline = started + timeout
        while self.full_runs < target or self.running:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{self.name}: /{self.page} did not finish in {timeout} s")
            self._finished.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._finished.wait(), min(left, 1.0))
            self._check_alive()
        if self.exceptions:
            raise ScriptError(f"{self.name}: exception on /{self.page}: {self.exceptions[0]}")
        return time.monotonic() - started

    async def wait_for(self, pattern: str, timeout: float = 120, since_connect=False) -> str:
        """Wait until an element's text matches `pattern` (fragment reruns included)."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            source = self.log if since_connect else self.texts
            for text in source:
                if m := regex.search(text):
                    return m.group(0)
            if time.monotonic() > deadline:
                last = " | ".join(t[:120] for t in source[-4:])
                raise TimeoutError(f"{self.name}: {pattern!r} not seen on /{self.page} in "
                                   f"{timeout} s (last seen: {last})")
            self._check_alive()
            await asyncio.sleep(0.2)

    def seen(self, pattern: str) -> bool:
        regex = re.compile(pattern)
        return any(regex.search(t) for t in self.texts)

    def _check_alive(self) -> None:
        if self._reader is not None and self._reader.done() and not self.closed:
            err = self._reader.exception() if not self._reader.cancelled() else None
            raise ConnectionError(f"{self.name}: the websocket closed ({err})")

    # -- what comes back ---------------------------------------------------------------------

    def button(self, label: str):
        for element in self.elements.values():
            kind = element.WhichOneof("type")
            if kind == "button" and element.button.label == label:
                return element.button
        return None

    def options(self) -> list[list[str]]:
        """The options of every select box of the last full run."""
        return [list(e.selectbox.options) for e in self.elements.values()
                if e.WhichOneof("type") == "selectbox"]

    async def _read(self) -> None:
        async for raw in self.ws:
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            kind = msg.WhichOneof("type")
            self.kinds.append(kind if kind != "script_finished" else
                              FINISHED.Name(msg.script_finished))
            if kind == "new_session":
                self._mine = True  # a run starts: the one asked for, or a later one
            elif kind == "navigation" and msg.navigation.page_script_hash:
                self.page_hash = msg.navigation.page_script_hash  # the page being shown
            elif kind == "page_info_changed":  # the app rewrote its address's query string
                self.query = msg.page_info_changed.query_string
            elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                self.elements[tuple(msg.metadata.delta_path)] = element
                kind_of = element.WhichOneof("type")
                text = (kind_of if element.ByteSize() > 20_000 else  # a table or a chart
                        text_format.MessageToString(element, as_utf8=True, as_one_line=True))
                self.texts.append(text)
                self.log.append(text)
                if kind_of == "exception":
                    self.exceptions.append(element.exception.message or text[:200])
            elif kind == "session_status_changed":
                self.running = msg.session_status_changed.script_is_running
            elif kind == "script_finished":
                status = msg.script_finished
                if status == FINISHED.FINISHED_SUCCESSFULLY:
                    self.full_runs += self._mine
                    # like the frontend: a full run drops the timers of fragments it did
                    # not draw again (a finished job's progress panel stops polling)
                    for fid in set(self._timers) - self._armed:
                        self._timers.pop(fid).cancel()
                elif status == FINISHED.FINISHED_WITH_COMPILE_ERROR:
                    self.exceptions.append("compile error")
                    self.full_runs += self._mine
                if status != FINISHED.FINISHED_EARLY_FOR_RERUN:  # another run follows that one
                    self.running = False
                    self._armed = set()
                self._finished.set()
            elif kind == "auto_rerun":
                fid = msg.auto_rerun.fragment_id
                self._armed.add(fid)
                if fid in self._timers:
                    self._timers[fid].cancel()
                self._timers[fid] = asyncio.create_task(
                    self._tick(fid, msg.auto_rerun.interval), name=f"{self.name}-{fid}")
            elif kind == "stop_auto_rerun":
                for fid in msg.stop_auto_rerun.fragment_ids:
                    if task := self._timers.pop(fid, None):
                        task.cancel()

    async def _tick(self, fragment_id: str, interval: float) -> None:
        """A fragment's timer, as the frontend runs it: rerun the fragment every interval."""
        while not self.closed:
            await asyncio.sleep(interval)
            if not self.running:  # the frontend skips ticks while a run is under way
                await self._send_rerun(fragment_id=fragment_id, auto=True)
