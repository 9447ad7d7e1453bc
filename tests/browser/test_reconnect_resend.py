"""The session page loses no message and misses no turn when its socket drops, in real Chromium.

The page's network is what fails here, so the test reaches into it: a script installed before the page's own keeps
a handle on each websocket the page opens, and can drop an outgoing frame, close the socket, or drop an incoming
frame, the ways a flaky connection or a server restart lose them.
"""

from __future__ import annotations

from typing import Any

import pytest

from tutor.demo import demo_load
from tutor.models import Turn, TutoringSession

from .conftest import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A stand-in for the network between the page and the server: every socket the page opens is kept in
# window.__sockets, and incoming frames pass window.__dropIncoming (when set) first.
NETWORK = """
(() => {
  const Native = window.WebSocket;
  window.__sockets = [];
  window.WebSocket = class extends Native {
    constructor(...args) { super(...args); window.__sockets.push(this); }
    addEventListener(type, listener, options) {
      if (type !== "message") return super.addEventListener(type, listener, options);
      const filtered = (event) => {
        if (window.__dropIncoming && window.__dropIncoming(event.data)) return;
        listener.call(this, event);
      };
      return super.addEventListener(type, filtered, options);
    }
  };
})();
"""


@pytest.fixture
def session_page(page: Any, settings: Any, request: pytest.FixtureRequest) -> Any:
    demo_load()
    settings.TUTOR_LLM_BACKEND = "none"  # template replies: this is about the connection, not the phrasing
    base = str(request.getfixturevalue("asgi_live_server"))
    page.add_init_script(NETWORK)
    log_in(page, base, "demo-student")
    page.get_by_role("button", name="Start Muffin trays").click()
    page.wait_for_selector("#transcript .turn-tutor[data-seq='1']")
    page.wait_for_function("() => window.__sockets.length === 1 && window.__sockets[0].readyState === WebSocket.OPEN")
    return page


def the_session() -> TutoringSession:
    return TutoringSession.objects.get(student__username="demo-student", problem__slug="muffin-trays")


def stored_turns() -> list[tuple[int, str, str]]:
    return list(Turn.objects.filter(session=the_session()).order_by("seq").values_list("seq", "role", "text"))


def seqs_on_page(page: Any) -> list[int]:
    return [int(s) for s in page.eval_on_selector_all("#transcript [data-seq]", "els => els.map(e => e.dataset.seq)")]


def send(page: Any, text: str) -> None:
    page.get_by_label("Your answer or question").fill(text)
    page.keyboard.press("Enter")


def assert_stored_once_and_answered_once(page: Any, text: str) -> None:
    page.wait_for_selector("#transcript .turn-tutor[data-seq='3']", timeout=20_000)
    page.wait_for_timeout(1000)  # room for a second, wrong reply to arrive
    turns = stored_turns()
    assert [(seq, role) for seq, role, _ in turns] == [(1, "tutor"), (2, "student"), (3, "tutor")]
    assert turns[1][2] == text
    assert seqs_on_page(page) == [1, 2, 3]
    assert page.get_by_label("Your answer or question").input_value() == ""
    assert page.locator("#connection-status").is_hidden()


def test_a_message_lost_with_its_socket_is_resent_after_the_reconnect(session_page: Any) -> None:
    page = session_page
    # The message frame never reaches the server, and the socket goes down with it.
    page.evaluate(
        """() => {
          const socket = window.__sockets[0];
          const send = socket.send.bind(socket);
          socket.send = (data) => { if (data.includes('"client_id"')) socket.close(); else send(data); };
        }"""
    )
    send(page, "24")
    page.wait_for_selector("#connection-status", state="visible")
    assert page.get_by_label("Your answer or question").input_value() == "24"  # kept until acknowledged
    assert_stored_once_and_answered_once(page, "24")
    assert page.evaluate("window.__sockets.length") == 2


def test_a_message_stored_before_its_acknowledgement_was_lost_is_not_stored_or_answered_twice(
    session_page: Any,
) -> None:
    page = session_page
    # The server gets the message, but the socket closes before the acknowledgement comes back.
    page.evaluate(
        """() => {
          const socket = window.__sockets[0];
          const send = socket.send.bind(socket);
          socket.send = (data) => { send(data); if (data.includes('"client_id"')) socket.close(); };
        }"""
    )
    send(page, "24")
    page.wait_for_selector("#connection-status", state="visible")
    assert_stored_once_and_answered_once(page, "24")
    assert page.evaluate("window.__sockets.length") == 2


def test_a_message_sent_while_disconnected_goes_out_once_on_reconnect(session_page: Any) -> None:
    page = session_page
    page.evaluate("window.__sockets[0].close()")
    page.wait_for_selector("#connection-status", state="visible")
    send(page, "24")
    assert_stored_once_and_answered_once(page, "24")
    assert page.evaluate("window.__sockets.length") == 2


def test_a_turn_whose_frames_were_lost_is_fetched_when_a_later_one_shows_the_gap(session_page: Any) -> None:
    page = session_page
    # Both frames that carry the student's turn (the acknowledgement and the session's broadcast) are lost.
    page.evaluate(
        """() => {
          let lost = 0;
          window.__dropIncoming = (data) => data.includes('id="turn-2"') && lost++ < 2;
        }"""
    )
    send(page, "24")
    page.wait_for_selector("#transcript .turn-student[data-seq='2']", timeout=20_000)
    page.wait_for_selector("#transcript .turn-tutor[data-seq='3']")
    assert seqs_on_page(page) == [1, 2, 3]
    assert page.evaluate("window.__sockets.length") == 1  # filled in over the same socket
    assert page.get_by_label("Your answer or question").input_value() == ""
    assert [role for _, role, _ in stored_turns()] == ["tutor", "student", "tutor"]
