"""The frame checker's own parts, without a socket: nesting is found outside strings only, in one pass."""

from __future__ import annotations

import pytest

from tutor.frames import MalformedFrame, StudentMessage, parse_frame


def test_brackets_inside_a_message_are_text() -> None:
    frame = parse_frame('{"message": "[{is it 3/4?}]", "client_id": "a-1"}', actions=("hint",))
    assert frame == StudentMessage(client_id="a-1", message="[{is it 3/4?}]", action=None)


def test_an_escaped_quote_does_not_end_the_string() -> None:
    frame = parse_frame('{"message": "he said \\"{\\" twice", "client_id": "a-2"}', actions=("hint",))
    assert isinstance(frame, StudentMessage) and frame.message == 'he said "{" twice'


@pytest.mark.parametrize(
    "text",
    [
        '{"message": "x", "client_id": "a-3", "extra": {"deep": 1}}',
        '{"message": ["x"], "client_id": "a-4"}',
        '"' + '\\"' * 8000,  # a string that never ends, full of escaped quotes
        '{"message": "' + "[" * 5000,
    ],
)
def test_nested_or_unterminated_frames_are_malformed(text: str) -> None:
    with pytest.raises(MalformedFrame):
        parse_frame(text, actions=("hint",))
