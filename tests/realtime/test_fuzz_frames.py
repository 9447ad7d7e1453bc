"""Property-based fuzzing of the session socket's frame handling with Hypothesis.

Whatever a client sends, the socket either answers and stays open or closes with 4400; it never fails with an
exception (a 1011 close in production). A frame is stored only when it is a well-formed student message, and then
exactly as it was typed, once per client id. The oracle below restates the protocol from tutor/frames.py's docstring
independently of its code.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.integration.conftest import World
from tutor import consumers, tutoring
from tutor.asgi import application
from tutor.models import Turn

from .conftest import _cookie_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("release_db_connections")]

FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,  # nothing written into the checkout; a failure prints its example
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Sent after each fuzzed frame: its notice comes after everything the socket answers the fuzzed frame with directly.
# (A fuzzed blank message gets the same notice, and then has nothing more to answer.) The id is one no fuzzed frame
# will have stored, which would turn the probe into a resend.
PROBE = json.dumps({"message": " ", "client_id": f"probe-{uuid.uuid4().hex}"})
PROBE_NOTICE = "Type a message first."
KEYS = ["type", "after", "message", "action", "client_id", "HEADERS", ""]

# -- what clients might send -----------------------------------------------------------------------------------

# Text with the characters that break storage: NUL, other controls, lone surrogates (reachable through JSON escapes).
nasty_text = st.text(
    alphabet=st.one_of(
        st.characters(), st.sampled_from('\x00\x01\t\n\u2028$\\{}"[]'), st.characters(categories=["Cs"])
    ),
    max_size=40,
)
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**11, max_value=10**60),
    st.floats(),  # NaN and the infinities become the non-JSON tokens json.dumps writes for them
    nasty_text,
    st.sampled_from(["sync", "hint", "stuck", "12", "m-1"]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS) | nasty_text, inner, max_size=3),
    max_leaves=8,
)
good_ids = st.from_regex(r"[A-Za-z0-9_-]{1,64}", fullmatch=True)
client_ids = good_ids | nasty_text
well_shaped_objects = st.one_of(
    st.fixed_dictionaries({"message": st.text(max_size=80), "client_id": good_ids}),
    st.fixed_dictionaries({"action": st.sampled_from(["hint", "stuck"]), "client_id": good_ids}),
    st.fixed_dictionaries({"type": st.just("sync"), "after": st.integers(min_value=-3, max_value=2**31 + 3)}),
)
near_valid_objects = st.one_of(
    st.fixed_dictionaries({"message": st.text(max_size=60) | json_values, "client_id": client_ids}),
    st.fixed_dictionaries(
        {"action": st.sampled_from(["hint", "stuck", "reveal"]) | json_values, "client_id": client_ids}
    ),
    st.fixed_dictionaries({"type": st.sampled_from(["sync", "other"]), "after": json_values}),
    st.dictionaries(st.sampled_from(KEYS), json_values, max_size=4),
)


def as_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=True)  # surrogates travel as \\u escapes, as a browser would send them


json_frames = st.one_of(json_values.map(as_json), near_valid_objects.map(as_json), well_shaped_objects.map(as_json))
text_frames = st.one_of(
    st.text(min_size=1, max_size=300),
    st.text(alphabet='{}[]":,0123456789.eE+-truefalsnIityNa \\u', min_size=1, max_size=200),
    st.builds(lambda n: "[" * n + "]" * n, st.integers(min_value=1, max_value=6000)),
    st.builds(lambda n: '{"type": "sync", "after": ' + "9" * n + "}", st.integers(min_value=1, max_value=6000)),
)

# -- the protocol, restated ------------------------------------------------------------------------------------

CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


class _Refused(ValueError):
    pass


def _strict_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys) or any(isinstance(v, dict | list) for _, v in pairs):
        raise _Refused
    return dict(pairs)


def _refuse(_: str) -> Any:
    raise _Refused


def _clean(text: str) -> bool:
    return "\x00" not in text and not any(0xD800 <= ord(c) <= 0xDFFF for c in text)


def expected(frame: str) -> tuple[str, str | None, str | None]:
    """('malformed' | 'sync' | 'refused' | 'stored', client id, text to be stored)."""
    malformed = ("malformed", None, None)
    if len(frame.encode("utf-8", "surrogatepass")) > 16_384:
        return malformed
    try:
        obj = json.loads(frame, object_pairs_hook=_strict_object, parse_constant=_refuse, parse_float=_refuse)
    except (ValueError, RecursionError):
        return malformed
    if not isinstance(obj, dict) or not all(
        _clean(k) and (not isinstance(v, str) or _clean(v)) for k, v in obj.items()
    ):
        return malformed
    if "type" in obj:
        after = obj.get("after")
        ok = obj.keys() == {"type", "after"} and obj["type"] == "sync"
        return ("sync", None, None) if ok and type(after) is int and 0 <= after < 2**31 else malformed
    client_id, message, action = obj.get("client_id"), obj.get("message"), obj.get("action")
    if not obj.keys() <= {"message", "action", "client_id"} or not isinstance(client_id, str):
        return malformed
    if not CLIENT_ID.fullmatch(client_id) or (message is None) == (action is None):
        return malformed
    if action is not None:
        return ("stored", client_id, tutoring.HELP_MESSAGES[action]) if action in ("hint", "stuck") else malformed
    if not isinstance(message, str):
        return malformed
    text = message.strip()
    return ("stored", client_id, text) if text and len(text) <= consumers.MAX_MESSAGE_CHARS else ("refused", None, None)


# -- running a frame -------------------------------------------------------------------------------------------


@database_sync_to_async
def student_turns(session_id: int) -> list[tuple[str, str | None]]:
    rows = Turn.objects.filter(session_id=session_id, role=Turn.Role.STUDENT).order_by("seq")
    return list(rows.values_list("text", "client_message_id"))


class Socket:
    """Opens the student's socket with one log-in for the whole run (each example opens a fresh socket)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.cookie = ""

    async def send_and_probe(self, frame: str) -> int | None:
        """Send ``frame`` and then the probe; the close code, or None when the socket stayed open."""
        if not self.cookie:
            self.cookie = await database_sync_to_async(_cookie_for)(self.world.student)
        tab = WebsocketCommunicator(
            application,
            f"/ws/sessions/{self.world.session.pk}/",
            headers=[(b"origin", b"http://localhost"), (b"host", b"localhost"), (b"cookie", self.cookie.encode())],
        )
        connected, _ = await tab.connect(timeout=5)
        assert connected
        try:
            await tab.send_to(text_data=frame)
            await tab.send_to(text_data=PROBE)
            while True:
                output = await tab.receive_output(timeout=10)  # an exception in the consumer is raised here
                if output["type"] == "websocket.close":
                    return int(output["code"])
                if PROBE_NOTICE in output.get("text", ""):
                    return None
        finally:
            await tab.disconnect()
            await consumers.replies_in_flight()


@pytest.fixture
def socket(world_tx: World, llm_backend: Any, monkeypatch: pytest.MonkeyPatch) -> Socket:
    # The limits are not what is fuzzed here: every well-formed message must reach the store.
    monkeypatch.setattr(consumers, "MESSAGES_PER_MINUTE", 100_000)
    monkeypatch.setattr(consumers, "SYNCS_PER_MINUTE", 100_000)
    return Socket(world_tx)


async def check(socket: Socket, frame: str) -> None:
    session_id = socket.world.session.pk
    before = await student_turns(session_id)
    kind, client_id, text = expected(frame)
    event(kind)
    closed_with = await socket.send_and_probe(frame)
    after = await student_turns(session_id)
    if kind == "malformed":
        assert closed_with == consumers.CLOSE_BAD_MESSAGE
    else:
        assert closed_with is None
    if kind == "stored":
        assert [t for t in after if t[1] == client_id] == (
            [t for t in before if t[1] == client_id] or [(text, client_id)]
        )
        assert len(after) - len(before) == (0 if any(c == client_id for _, c in before) else 1)
    else:
        assert after == before


@FUZZ
@given(frame=json_frames)
async def test_no_json_frame_breaks_the_socket_or_stores_what_it_should_not(socket: Socket, frame: str) -> None:
    await check(socket, frame)


@FUZZ
@given(frame=text_frames)
async def test_no_text_frame_breaks_the_socket_or_stores_what_it_should_not(socket: Socket, frame: str) -> None:
    await check(socket, frame)
