"""Urgent work first: what waits on ``after_urgent`` resumes when the urgent work of the moment ends, never later
than its cap; and a model's reply stream is asked for when it is opened, before anyone reads it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from models.backends import TutorLLMError
from tutor import urgent_work
from tutor.opened_stream import OpenedStream


async def test_nothing_urgent_means_no_wait() -> None:
    assert urgent_work.under_way() == 0
    await asyncio.wait_for(urgent_work.after_urgent(), timeout=0.01)


async def test_other_work_resumes_when_the_urgent_work_ends() -> None:
    first, second = urgent_work.Urgent(), urgent_work.Urgent()
    waiter = asyncio.create_task(urgent_work.after_urgent())
    await asyncio.sleep(0.01)
    first.end()
    first.end()  # ending twice counts once
    await asyncio.sleep(0.01)
    assert not waiter.done() and urgent_work.under_way() == 1
    with second:
        pass
    await asyncio.wait_for(waiter, timeout=0.05)
    assert urgent_work.under_way() == 0


async def test_other_work_waits_no_longer_than_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(urgent_work, "MAX_WAIT_SECONDS", 0.02)
    with urgent_work.Urgent():
        await asyncio.wait_for(urgent_work.after_urgent(), timeout=0.5)
        assert urgent_work.under_way() == 1


class Model:
    """A stand-in for a tutor model backend: records when its stream starts, and whether it was closed."""

    name = "stand-in"

    def __init__(self, pieces: list[str], fail: Exception | None = None) -> None:
        self.pieces, self.fail = pieces, fail
        self.started = self.closed = False
        self.gate = asyncio.Event()

    def stream(self, messages: Any, **options: Any) -> AsyncIterator[str]:
        return self._stream()

    async def _stream(self) -> AsyncIterator[str]:
        self.started = True
        try:
            await self.gate.wait()
            if self.fail is not None:
                raise self.fail
            for piece in self.pieces:
                yield piece
        finally:
            self.closed = True


async def test_the_model_is_asked_when_the_stream_is_opened_not_when_it_is_read() -> None:
    model = Model(["Let's ", "see."])
    opened = await OpenedStream.open(model, [{"role": "user", "content": "hi"}])
    assert opened is not None
    await asyncio.sleep(0)
    assert model.started
    model.gate.set()
    assert [piece async for piece in opened] == ["Let's ", "see."]


async def test_closing_an_unread_stream_stops_the_generation() -> None:
    model = Model(["never read"])
    opened = await OpenedStream.open(model, [])
    assert opened is not None
    await asyncio.sleep(0)
    await opened.close()
    assert model.closed


async def test_a_failure_before_the_first_piece_reaches_the_reader() -> None:
    model = Model([], fail=RuntimeError("the model server closed the connection"))
    opened = await OpenedStream.open(model, [])
    assert opened is not None
    model.gate.set()
    with pytest.raises(RuntimeError):
        [piece async for piece in opened]
    await opened.close()


async def test_templates_only_ask_no_model() -> None:
    class NoModel:
        name = "none"

    assert await OpenedStream.open(NoModel(), []) is None


class ServerModel(Model):
    """A backend that can say when its request has gone out (``open``), as the model server's does."""

    def __init__(self, pieces: list[str], refuse: TutorLLMError | None = None) -> None:
        super().__init__(pieces)
        self.refuse = refuse
        self.sent = False

    async def open(self, messages: Any, **options: Any) -> AsyncIterator[str]:
        await asyncio.sleep(0)  # connecting
        if self.refuse is not None:
            raise self.refuse
        self.sent = True
        return self._stream()


async def test_opening_returns_once_the_request_has_gone_out() -> None:
    model = ServerModel(["Let's ", "see."])
    opened = await OpenedStream.open(model, [])
    assert model.sent and opened is not None
    model.gate.set()
    assert [piece async for piece in opened] == ["Let's ", "see."]


async def test_a_server_that_refuses_the_request_fails_the_first_read_as_any_model_failure() -> None:
    model = ServerModel([], refuse=TutorLLMError("cannot connect to the model server"))
    opened = await OpenedStream.open(model, [])
    assert opened is not None
    with pytest.raises(TutorLLMError):
        [piece async for piece in opened]
    await opened.close()
