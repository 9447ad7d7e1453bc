"""What the session page may send over its websocket, checked in full before anything acts on it.

The page sends two kinds of frame, each a flat JSON object:

- ``{"type": "sync", "after": 12}``: send me the turns after number 12 (on every (re)connect, and on a gap).
- ``{"message": "...", "client_id": "..."}`` or ``{"action": "hint", "client_id": "..."}``: a student's message or a
  press of a help button, named by an id the page chose so that a resend is stored and answered once.

Anything else is a frame the page never sends, raised as :class:`MalformedFrame`: text that is not one such object,
unknown or repeated keys, values of the wrong type, nested values, numbers JSON does not have (``NaN``,
``Infinity``) or that no turn could carry, NUL characters and lone surrogates (PostgreSQL stores neither). A blank or
overlong message is not malformed: a student can type one, and the consumer answers it with a notice.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

MAX_FRAME_BYTES = 16_384
# Turn numbers are PostgreSQL integers; a sync point past the largest is no turn the page has seen.
MAX_SEQ = 2**31 - 1
# Enough digits for any turn number; int() of thousands of digits is slow and refused by Python past 4,300.
MAX_INT_DIGITS = 10
# The page's ids are UUIDs (or a time and a random number where randomUUID is missing); the column holds 64.
CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

_MESSAGE_KEYS = frozenset({"message", "action", "client_id"})
_SYNC_KEYS = frozenset({"type", "after"})


class MalformedFrame(ValueError):
    """A frame the session page never sends; the socket is closed with 4400 and nothing is stored."""


@dataclass(frozen=True)
class SyncRequest:
    after: int


@dataclass(frozen=True)
class StudentMessage:
    client_id: str
    message: str | None  # exactly one of message and action is set
    action: str | None


Frame = SyncRequest | StudentMessage


def parse_frame(text: str | None, *, actions: Collection[str]) -> Frame:
    """The frame in ``text``, or :class:`MalformedFrame`. ``actions`` are the help buttons the page has."""
    if text is None:
        raise MalformedFrame("binary frames are not used")
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FRAME_BYTES:
        raise MalformedFrame("frame too large")
    payload = _load_flat_object(text)
    for key, value in payload.items():
        if _UNSTORABLE.search(key) or (isinstance(value, str) and _UNSTORABLE.search(value)):
            raise MalformedFrame("NUL character or lone surrogate")
    if "type" in payload:
        return _sync_request(payload)
    return _student_message(payload, actions)


def _load_flat_object(text: str) -> dict[str, Any]:
    # The only frames are flat objects: more than one bracket outside strings is refused before the parser recurses.
    if _opening_brackets(text, stop_after=1) > 1:
        raise MalformedFrame("nested values")
    try:
        payload = json.loads(
            text,
            object_pairs_hook=_flat_object,
            parse_int=_bounded_int,
            parse_float=_no_fractions,
            parse_constant=_no_constants,
        )
    except (ValueError, RecursionError) as exc:  # JSONDecodeError and the hooks' MalformedFrame are ValueErrors
        raise MalformedFrame(str(exc)[:200]) from exc
    if not isinstance(payload, dict):
        raise MalformedFrame("not a JSON object")
    return payload


def _opening_brackets(text: str, *, stop_after: int) -> int:
    """Opening brackets outside JSON strings, counted in one pass (up to ``stop_after`` + 1). A regular expression
    over the strings would backtrack on a frame that opens a string and never closes it: seconds of one socket's
    event loop for 16 KB of escaped quotes."""
    count = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "{[":
            count += 1
            if count > stop_after:
                break
    return count


def _flat_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    for key, value in pairs:
        if key in payload:
            raise MalformedFrame(f"repeated key {key[:40]!r}")
        if isinstance(value, dict | list):
            raise MalformedFrame("nested values")
        payload[key] = value
    return payload


def _bounded_int(digits: str) -> int:
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise MalformedFrame("number too long")
    return int(digits)


def _no_fractions(text: str) -> float:
    raise MalformedFrame("no field takes a fraction")


def _no_constants(name: str) -> float:
    raise MalformedFrame(f"{name} is not JSON")


def _sync_request(payload: dict[str, Any]) -> SyncRequest:
    if payload.get("type") != "sync" or payload.keys() != _SYNC_KEYS:
        raise MalformedFrame("unknown frame type or keys")
    after = payload["after"]
    # bool is an int to Python; the page never sends one.
    if type(after) is not int or not 0 <= after <= MAX_SEQ:
        raise MalformedFrame("sync point is not a turn number")
    return SyncRequest(after=after)


def _student_message(payload: dict[str, Any], actions: Collection[str]) -> StudentMessage:
    if not payload.keys() <= _MESSAGE_KEYS:
        raise MalformedFrame("unknown keys")
    client_id = payload.get("client_id")
    if not isinstance(client_id, str) or not CLIENT_ID.fullmatch(client_id):
        raise MalformedFrame("missing or malformed client id")
    message, action = payload.get("message"), payload.get("action")
    if (message is None) == (action is None):
        raise MalformedFrame("a frame carries a message or an action, not both or neither")
    if message is not None and not isinstance(message, str):
        raise MalformedFrame("message is not text")
    if action is not None and (not isinstance(action, str) or action not in actions):
        raise MalformedFrame("unknown action")
    return StudentMessage(client_id=client_id, message=message, action=action)
