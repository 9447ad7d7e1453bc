"""The ``openai`` and ``none`` backends and the settings factory, against a stand-in for a vLLM server
(``tests/standin_vllm.py``) that plays a healthy server and each way a real one fails."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time

import pytest

from models.backends import (
    LocalLLM,
    NoLLM,
    OpenAICompatibleLLM,
    TutorLLM,
    TutorLLMError,
    backend_from_settings,
    close_connection,
    complete,
    complete_or_template,
)
from tests.conftest import REPO_ROOT
from tests.standin_vllm import Request, chunk, delta, sse, start_sse

MESSAGES = [
    {"role": "system", "content": "You phrase a tutor's planned turn."},
    {"role": "user", "content": "Ask the student what 12 + 3 is."},
]
TEMPLATE = "What do you get when you add 12 and 3?"


async def healthy(request: Request, writer: asyncio.StreamWriter) -> None:
    await start_sse(writer)
    writer.write(chunk(sse({"choices": [{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}]})))
    for piece in ["What do ", "you get ", "when you add 12 and 3?"]:
        writer.write(chunk(sse(delta(piece))))
        await writer.drain()
    writer.write(chunk(sse(delta("", "stop")) + b": keep-alive comment\n\n" + b"data: [DONE]\n\n") + b"0\r\n\r\n")
    await writer.drain()


async def test_it_streams_a_reply_from_an_openai_compatible_server(serve) -> None:
    server = await serve(healthy)
    llm = OpenAICompatibleLLM(server.url, "tutor-model", api_key="secret-key")

    pieces = [piece async for piece in llm.stream(MESSAGES, max_new_tokens=32, temperature=0.2)]

    assert pieces == ["What do ", "you get ", "when you add 12 and 3?"]
    (request,) = server.requests
    assert (request.method, request.path) == ("POST", "/v1/chat/completions")
    assert request.headers["authorization"] == "Bearer secret-key"
    assert request.body["model"] == "tutor-model"
    assert request.body["stream"] is True
    assert request.body["max_tokens"] == 32
    assert request.body["messages"] == MESSAGES


async def test_it_reads_a_stream_framed_by_connection_close(serve) -> None:
    async def unchunked(request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\n")
        writer.write(sse(delta("Twelve ")) + sse(delta("and three.", "stop")))
        await writer.drain()

    server = await serve(unchunked)
    llm = OpenAICompatibleLLM(server.url, "tutor-model")

    assert await complete(llm, MESSAGES) == "Twelve and three."
    assert "authorization" not in server.requests[0].headers


async def test_a_request_goes_out_on_the_connection_opened_ahead_of_it(serve) -> None:
    server = await serve(healthy)
    llm = OpenAICompatibleLLM(server.url, "tutor-model")
    connection = llm.connect_ahead()
    await asyncio.sleep(0.05)  # the message is stored and the reply planned meanwhile
    assert server.connections == 1 and server.requests == []

    pieces = await llm.open(MESSAGES, connection=connection)
    await asyncio.sleep(0.05)
    assert len(server.requests) == 1  # sent by open, before any piece is read
    assert [piece async for piece in pieces] == ["What do ", "you get ", "when you add 12 and 3?"]
    assert server.connections == 1


async def test_a_connection_opened_ahead_that_the_server_closed_is_replaced(serve) -> None:
    server = await serve(healthy)
    llm = OpenAICompatibleLLM(server.url, "tutor-model")
    connection = llm.connect_ahead()
    reader, _ = await connection
    reader.feed_eof()  # as when the server closes an idle connection
    pieces = await llm.open(MESSAGES, connection=connection)
    assert "".join([piece async for piece in pieces]) == TEMPLATE
    assert server.connections == 2


async def test_a_connection_opened_ahead_for_no_request_is_closed(serve) -> None:
    server = await serve(healthy)
    llm = OpenAICompatibleLLM(server.url, "tutor-model")
    connection = llm.connect_ahead()
    _, writer = await connection
    close_connection(connection)
    assert writer.is_closing()
    still_connecting = llm.connect_ahead()
    close_connection(still_connecting)  # before it has connected: the connect is stopped
    await asyncio.sleep(0.05)
    assert still_connecting.cancelled() and server.requests == []


async def test_a_server_that_is_down_raises_and_the_turn_uses_the_template() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    llm = OpenAICompatibleLLM(f"http://127.0.0.1:{port}/v1", "tutor-model", connect_timeout=1.0)

    with pytest.raises(TutorLLMError, match="cannot connect"):
        await complete(llm, MESSAGES)
    phrasing = await complete_or_template(llm, MESSAGES, template=TEMPLATE)
    assert (phrasing.text, phrasing.source) == (TEMPLATE, "template")


async def test_a_server_that_hangs_before_answering_hits_the_read_timeout(serve) -> None:
    async def hang(request: Request, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(30)

    server = await serve(hang)
    llm = OpenAICompatibleLLM(server.url, "tutor-model", read_timeout=0.3)

    started = time.monotonic()
    with pytest.raises(TutorLLMError, match="sent nothing"):
        await complete(llm, MESSAGES)
    assert time.monotonic() - started < 5


async def test_a_server_that_stalls_between_tokens_hits_the_read_timeout(serve) -> None:
    async def stall(request: Request, writer: asyncio.StreamWriter) -> None:
        await start_sse(writer)
        writer.write(chunk(sse(delta("What do "))))
        await writer.drain()
        await asyncio.sleep(30)

    server = await serve(stall)
    llm = OpenAICompatibleLLM(server.url, "tutor-model", read_timeout=0.3)

    phrasing = await complete_or_template(llm, MESSAGES, template=TEMPLATE)
    assert phrasing.source == "template"
    assert phrasing.text == TEMPLATE
    assert phrasing.error is not None and "sent nothing" in phrasing.error


async def test_an_http_error_raises_with_the_status_and_the_server_message(serve) -> None:
    async def overloaded(request: Request, writer: asyncio.StreamWriter) -> None:
        body = json.dumps({"error": {"message": "model tutor-model is overloaded"}}).encode()
        writer.write(
            b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n"
            + f"content-length: {len(body)}\r\n\r\n".encode()
            + body
        )
        await writer.drain()

    server = await serve(overloaded)
    llm = OpenAICompatibleLLM(server.url, "tutor-model")

    with pytest.raises(TutorLLMError, match=r"HTTP 503.*overloaded"):
        await complete(llm, MESSAGES)


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body>502 Bad Gateway</body></html>\n",
        b"data: {this is not json\n\n",
        b'data: {"choices": "none"}\n\n',
        b'data: {"error": {"message": "CUDA out of memory"}}\n\n',
    ],
    ids=["html", "broken-json", "no-choices", "error-event"],
)
async def test_garbage_in_the_stream_raises(serve, body: bytes) -> None:
    async def garbage(request: Request, writer: asyncio.StreamWriter) -> None:
        await start_sse(writer)
        writer.write(chunk(body) + b"0\r\n\r\n")
        await writer.drain()

    server = await serve(garbage)
    llm = OpenAICompatibleLLM(server.url, "tutor-model")

    with pytest.raises(TutorLLMError):
        await complete(llm, MESSAGES)


async def test_a_non_http_answer_raises(serve) -> None:
    async def not_http(request: Request, writer: asyncio.StreamWriter) -> None:
        writer.write(b"SSH-2.0-OpenSSH_9.6\r\n")
        await writer.drain()

    server = await serve(not_http)
    with pytest.raises(TutorLLMError, match="did not answer with HTTP"):
        await complete(OpenAICompatibleLLM(server.url, "tutor-model"), MESSAGES)


async def test_a_stream_that_drops_mid_reply_raises_after_its_tokens_and_is_not_retried(serve) -> None:
    async def drop(request: Request, writer: asyncio.StreamWriter) -> None:
        await start_sse(writer)
        writer.write(chunk(sse(delta("What do "))) + chunk(sse(delta("you get")))[:-10])
        await writer.drain()

    server = await serve(drop)
    llm = OpenAICompatibleLLM(server.url, "tutor-model", connect_retries=3)

    received: list[str] = []
    with pytest.raises(TutorLLMError, match="mid-stream"):
        async for piece in llm.stream(MESSAGES):
            received.append(piece)
    assert received == ["What do "]
    assert server.connections == 1
    phrasing = await complete_or_template(llm, MESSAGES, template=TEMPLATE)
    assert phrasing.text == TEMPLATE


async def test_a_stream_that_ends_cleanly_without_finishing_the_reply_raises(serve) -> None:
    async def cut(request: Request, writer: asyncio.StreamWriter) -> None:
        await start_sse(writer)
        writer.write(chunk(sse(delta("What do "))) + b"0\r\n\r\n")
        await writer.drain()

    server = await serve(cut)
    with pytest.raises(TutorLLMError, match="before the reply was complete"):
        await complete(OpenAICompatibleLLM(server.url, "tutor-model"), MESSAGES)


async def test_the_whole_turn_is_bounded_by_the_total_timeout(serve) -> None:
    async def trickle(request: Request, writer: asyncio.StreamWriter) -> None:
        await start_sse(writer)
        for _ in range(100):
            writer.write(chunk(sse(delta("and "))))
            await writer.drain()
            await asyncio.sleep(0.05)

    server = await serve(trickle)
    llm = OpenAICompatibleLLM(server.url, "tutor-model", read_timeout=1.0, total_timeout=0.5)

    started = time.monotonic()
    with pytest.raises(TutorLLMError, match="longer than"):
        await complete(llm, MESSAGES)
    assert time.monotonic() - started < 3


async def test_the_none_backend_yields_nothing_so_the_template_is_used() -> None:
    llm = NoLLM()

    assert [piece async for piece in llm.stream(MESSAGES)] == []
    phrasing = await complete_or_template(llm, MESSAGES, template=TEMPLATE)
    assert (phrasing.text, phrasing.source, phrasing.error) == (TEMPLATE, "template", None)


def test_the_factory_builds_each_backend_from_plain_settings() -> None:
    none = backend_from_settings({"TUTOR_LLM_BACKEND": "none"})
    local = backend_from_settings({"TUTOR_LLM_BACKEND": "local", "TUTOR_LLM_MODEL": ""})
    remote = backend_from_settings(
        {
            "TUTOR_LLM_BACKEND": "openai",
            "TUTOR_LLM_URL": "https://gpu-1.internal:8443/v1/",
            "TUTOR_LLM_MODEL": "socratic-tutor",
            "TUTOR_LLM_API_KEY": "k",
            "TUTOR_LLM_READ_TIMEOUT": "7.5",
        }
    )

    assert isinstance(none, NoLLM)
    assert isinstance(local, LocalLLM)
    assert local.model is None
    assert isinstance(remote, OpenAICompatibleLLM)
    assert (remote.endpoint.scheme, remote.endpoint.host, remote.endpoint.port) == (
        "https",
        "gpu-1.internal",
        8443,
    )
    assert remote.endpoint.path == "/v1/chat/completions"
    assert (remote.api_key, remote.read_timeout, remote.name) == ("k", 7.5, "openai:socratic-tutor")
    for backend in (none, local, remote):
        assert isinstance(backend, TutorLLM)


def test_the_factory_defaults_to_choosing_by_what_is_available() -> None:
    assert isinstance(backend_from_settings({}, has_cuda=lambda: False), NoLLM)
    assert isinstance(backend_from_settings({}, has_cuda=lambda: True), LocalLLM)


@pytest.mark.parametrize(
    "settings",
    [
        {"TUTOR_LLM_BACKEND": "gpt"},
        {"TUTOR_LLM_BACKEND": "openai", "TUTOR_LLM_MODEL": "m"},
        {"TUTOR_LLM_BACKEND": "openai", "TUTOR_LLM_URL": "http://127.0.0.1:8000/v1"},
        {"TUTOR_LLM_BACKEND": "openai", "TUTOR_LLM_URL": "ftp://host/v1", "TUTOR_LLM_MODEL": "m"},
        {"TUTOR_LLM_BACKEND": "openai", "TUTOR_LLM_URL": "http://h/v1", "TUTOR_LLM_MODEL": "m",
         "TUTOR_LLM_READ_TIMEOUT": "soon"},
    ],
    ids=["unknown-backend", "no-url", "no-model", "bad-scheme", "bad-timeout"],
)  # fmt: skip
def test_the_factory_rejects_incomplete_settings(settings: dict[str, str]) -> None:
    with pytest.raises(TutorLLMError):
        backend_from_settings(settings)


def test_a_missing_local_model_directory_raises(tmp_path) -> None:
    with pytest.raises(TutorLLMError, match="not found"):
        LocalLLM(tmp_path / "absent").load()


def test_importing_the_models_package_loads_neither_torch_nor_django() -> None:
    code = (
        "import sys, models.backends, models.data, models.finetune, models.evaluate, models.serve; "
        "print(sorted(name for name in ('torch', 'transformers', 'peft', 'django') if name in sys.modules))"
    )
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO_ROOT, env=env)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_local_model_that_fails_to_load_is_not_retried_on_every_turn(tmp_path) -> None:
    llm = LocalLLM(str(tmp_path / "no-such-model"))
    with pytest.raises(TutorLLMError) as first:
        llm.load()
    (tmp_path / "no-such-model").mkdir()  # even if the folder appears now, the next turn does not pay for a load
    with pytest.raises(TutorLLMError) as second:
        llm.load()
    assert second.value is first.value
