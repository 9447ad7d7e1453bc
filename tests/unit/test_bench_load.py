"""The load benchmark's pure parts: how it reads the session's frames, its percentiles and its summary line.
The load run itself (PostgreSQL, Redis, daphne) is not part of the test suite."""

from __future__ import annotations

import json

from bench.load import (
    TARGET_SESSIONS,
    Student,
    TurnTiming,
    observe,
    percentile,
    row,
    spread,
    summarize,
    summary_line,
    target_holds,
)
from bench.load_standin import reply_pieces

TOKEN = '<div class="text" id="pending-2-text" hx-swap-oob="true">Let&#x27;s look at this together.</div>'
FINAL = '<div id="announcer" hx-swap-oob="true">Tutor replied</div>'
ECHO = '<ol id="transcript" hx-swap-oob="beforeend"><li data-seq="2">is it 7?</li></ol>'


def test_percentiles_are_nearest_rank_and_empty_is_none() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 51.0
    assert percentile(values, 99) == 99.0
    assert percentile([3.0, 1.0, 2.0], 100) == 3.0
    assert percentile([], 50) is None


def test_a_turn_is_timed_from_the_echo_to_the_final_reply() -> None:
    timing = TurnTiming()
    assert not observe(timing, 10.0, 10.05, ECHO)
    assert not observe(timing, 10.0, 10.40, TOKEN)
    assert not observe(timing, 10.0, 10.60, TOKEN)
    assert observe(timing, 10.0, 11.20, FINAL)
    assert timing.first_frame_s is not None and abs(timing.first_frame_s - 0.05) < 1e-9
    assert timing.first_text_s is not None and abs(timing.first_text_s - 0.40) < 1e-9
    assert timing.final_s is not None and abs(timing.final_s - 1.20) < 1e-9
    assert timing.frames == 4 and timing.streamed and timing.answered


def test_a_reply_that_never_streamed_counts_its_final_frame_as_the_first_text() -> None:
    timing = TurnTiming()
    observe(timing, 0.0, 0.1, ECHO)
    observe(timing, 0.0, 0.5, FINAL)
    assert timing.first_text_s == 0.5 and not timing.streamed


def test_the_summary_counts_lost_turns_and_subtracts_the_models_first_token_time() -> None:
    answered = TurnTiming(first_frame_s=0.02, first_text_s=0.33, final_s=1.1, frames=9, streamed=True)
    unanswered = TurnTiming(first_frame_s=0.02, frames=1)
    level = summarize([answered, unanswered, TurnTiming()], sent=4, stored=2, replies_stored=1, first_token_s=0.3)
    assert level["answered"] == 1 and level["lost"] == 3 and level["frames"] == 10
    assert level["added_ttft_ms"] == {"p50": 30.0, "p95": 30.0, "p99": 30.0}
    assert level["final_ms"]["p99"] == 1100.0


def test_the_summary_line_is_json_and_judges_the_target_at_ten_students() -> None:
    fast = summarize(
        [TurnTiming(first_frame_s=0.01, first_text_s=0.32, final_s=1.0, frames=9)],
        sent=1,
        stored=1,
        replies_stored=1,
        first_token_s=0.3,
    )
    fast |= {"daphne_cpu_s": 0.5, "daphne_rss_mb": 100.0, "wall_s": 2.0}
    levels = {str(TARGET_SESSIONS): fast}
    line = json.loads(summary_line(levels, {"turns": 1}))
    assert line["bench"] == "load" and line["turns"] == 1
    assert all(line["checks"].values())
    assert target_holds({}) is None
    assert str(TARGET_SESSIONS) in row(TARGET_SESSIONS, fast)


def test_the_stand_in_streams_the_asked_number_of_tokens_starting_with_a_whole_sentence() -> None:
    pieces = reply_pieces(40)
    assert len(pieces) == 40 and pieces[0].endswith(". ")
    assert not any(ch.isdigit() for ch in "".join(pieces))


def test_students_are_spread_over_the_servers_in_turn() -> None:
    students = [Student(f"c{i}", i) for i in range(5)]
    placed = spread(students, ["ws://a", "ws://b"])
    assert placed == [
        ["c0", 0, "ws://a"],
        ["c1", 1, "ws://b"],
        ["c2", 2, "ws://a"],
        ["c3", 3, "ws://b"],
        ["c4", 4, "ws://a"],
    ]
