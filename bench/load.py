"""Live tutoring under load: many students talking to the tutor over websockets at once, through a real daphne.

    python -m bench.load --sessions 1,10,50,200 [--turns 3] [--workers 1] [--idle 1000 --idle-seconds 300]
                         [--database tutor_bench_load] [--port 8765]

It creates a throw-away PostgreSQL database (migrated, with the demo content and class, and one student with a
session on a demo problem per simulated student), starts a stand-in model server (``bench.load_standin``: 300 ms to
the first token, then 40 tokens) and daphne with the production channel layer (Redis, under a key prefix of its own),
then for each concurrency level lets that many students send ``--turns`` messages one after another, each waiting
for the tutor's finished reply. Per level it prints messages sent / stored / answered, frames, lost turns, the
app's added time to first streamed text (observed minus the stand-in's 300 ms) and the time to the finished reply
(p50/p95/p99), and daphne's CPU time and memory. With ``--workers N``, N daphne processes serve on consecutive ports
(the same PostgreSQL and Redis, as behind a load balancer) and the students are split between them; CPU time and
memory are then summed over the processes. ``--idle N`` then opens N websockets on the sessions of fifty more
students, leaves them idle for ``--idle-seconds`` and counts those the server dropped meanwhile, and those that still
answer the page's re-sync frame afterwards. The database is dropped at the end. The last line is JSON.

A benchmark reports, it does not judge: it exits 0 whatever the figures, and says whether the target holds.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SERVER_URL = "postgres://postgres@127.0.0.1:5432"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
STANDIN_FIRST_TOKEN_S = 0.3
STANDIN_TOKENS = 40
# The target: the app adds less than 50 ms to the model's first token with 10 students at once.
TARGET_ADDED_TTFT_MS = 50.0
TARGET_SESSIONS = 10
REPLY_TIMEOUT_S = 30.0
# What students type, in turn: a help request, a guess, a question. None of them solves a demo problem.
MESSAGES = ("I'm not sure where to start", "is it 7?", "why would that work?")

# How the session page's frames are told apart (templates/sessions/_token.html, _final.html, _failed.html).
TOKEN_MARK = '-text" hx-swap-oob="true"'  # noqa: S105 - a template fragment, not a secret
FINAL_MARK = 'id="announcer"'
FAILED_MARK = "could not answer"


# -- pure parts: measuring and summarizing -----------------------------------------------------------------------


@dataclass
class TurnTiming:
    """One student message and what came back on the socket, in seconds since it was sent."""

    first_frame_s: float | None = None  # anything at all (the echo of the stored message)
    first_text_s: float | None = None  # the first tutor text: a streamed piece, or the final reply if none streamed
    final_s: float | None = None  # the stored reply
    frames: int = 0
    streamed: bool = False
    failed: bool = False  # the app said it could not answer

    @property
    def answered(self) -> bool:
        return self.final_s is not None


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (as ``bench.simulate``); None for no values, so the JSON line stays valid."""
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def observe(timing: TurnTiming, sent_at: float, arrived_at: float, text: str) -> bool:
    """Record one frame of the turn; True when the turn is over (a final reply or a failure)."""
    elapsed = arrived_at - sent_at
    timing.frames += 1
    if timing.first_frame_s is None:
        timing.first_frame_s = elapsed
    if TOKEN_MARK in text:
        timing.streamed = True
        if timing.first_text_s is None:
            timing.first_text_s = elapsed
    if FINAL_MARK in text:
        timing.final_s = elapsed
        if timing.first_text_s is None:
            timing.first_text_s = elapsed
        return True
    if FAILED_MARK in text:
        timing.failed = True
        return True
    return False


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 1)


def summarize(
    timings: list[TurnTiming], *, sent: int, stored: int, replies_stored: int, first_token_s: float
) -> dict[str, Any]:
    """A level's figures; latencies in milliseconds. ``sent`` counts messages the students meant to send, so a
    socket that never opened shows up as lost turns rather than as a smaller run."""
    added = [t.first_text_s - first_token_s for t in timings if t.first_text_s is not None]
    finals = [t.final_s for t in timings if t.final_s is not None]
    echoes = [t.first_frame_s for t in timings if t.first_frame_s is not None]
    answered = sum(1 for t in timings if t.answered)
    return {
        "sent": sent,
        "stored": stored,
        "replies_stored": replies_stored,
        "answered": answered,
        "failed": sum(1 for t in timings if t.failed),
        "lost": sent - answered - sum(1 for t in timings if t.failed),
        "streamed": sum(1 for t in timings if t.streamed),
        "frames": sum(t.frames for t in timings),
        "added_ttft_ms": {f"p{q}": _ms(percentile(added, q)) for q in (50, 95, 99)},
        "final_ms": {f"p{q}": _ms(percentile(finals, q)) for q in (50, 95, 99)},
        # The echo of the stored message: the part of the first-token delay spent before the model is asked.
        "echo_ms": {f"p{q}": _ms(percentile(echoes, q)) for q in (50, 95, 99)},
    }


def target_holds(levels: dict[str, dict[str, Any]], percentile_key: str = "p95") -> bool | None:
    """Whether the added first-token time at the target's concurrency is under the target; None if not run."""
    level = levels.get(str(TARGET_SESSIONS))
    if level is None or level["added_ttft_ms"][percentile_key] is None:
        return None
    return bool(level["lost"] == 0 and level["added_ttft_ms"][percentile_key] < TARGET_ADDED_TTFT_MS)


def row(sessions: int, level: dict[str, Any]) -> str:
    def fmt(value: float | None) -> str:
        return "-" if value is None else f"{value:.0f}"

    def triple(figures: dict[str, float | None]) -> str:
        return f"{fmt(figures['p50']):>6}{fmt(figures['p95']):>6}{fmt(figures['p99']):>6}"

    return (
        f"{sessions:>8}{level['sent']:>6}{level['stored']:>7}{level['answered']:>5}{level['frames']:>7}"
        f"{level['lost']:>5}{level['failed']:>5}  {triple(level['added_ttft_ms'])}  {triple(level['final_ms'])}  "
        f"{triple(level['echo_ms'])}  {level['daphne_cpu_s']:>6.2f}{level['daphne_rss_mb']:>7.0f}"
        f"{level['wall_s']:>7.1f}"
    )


HEADER = (
    f"{'':>8}{'':>6}{'':>7}{'':>5}{'':>7}{'':>5}{'':>5}  {'added TTFT ms':>18}  {'end of reply ms':>18}  "
    f"{'echo ms':>18}  {'daphne':>13}\n"
    f"{'sessions':>8}{'sent':>6}{'stored':>7}{'ans':>5}{'frames':>7}{'lost':>5}{'fail':>5}  "
    + f"{'p50':>6}{'p95':>6}{'p99':>6}  " * 3
    + f"{'cpu s':>6}{'rss MB':>7}{'wall s':>7}"
)


def summary_line(levels: dict[str, dict[str, Any]], meta: dict[str, Any]) -> str:
    checks = {
        f"added_ttft_p95_under_{TARGET_ADDED_TTFT_MS:.0f}ms_at_{TARGET_SESSIONS}": target_holds(levels, "p95"),
        f"added_ttft_p50_under_{TARGET_ADDED_TTFT_MS:.0f}ms_at_{TARGET_SESSIONS}": target_holds(levels, "p50"),
    }
    return json.dumps({"bench": "load", **meta, "levels": levels, "checks": checks}, sort_keys=True)


# -- the services: database, stand-in model server, daphne ---------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def app_env(*, database_url: str, redis_url: str, llm_url: str, prefix: str) -> dict[str, str]:
    """The environment daphne (and this process's Django) run with: production settings, not development ones,
    so DEBUG's query log and template checks do not weigh on the figures."""
    return {
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_COOKIES": "0",  # the benchmark speaks plain ws:// on loopback
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        # A prefix of its own: the benchmark's channel groups and rate-limit counters never mix with a dev server's.
        "CHANNELS_PREFIX": prefix,
        "CACHE_PREFIX": prefix,
        "TUTOR_LLM_BACKEND": "openai",
        "TUTOR_LLM_URL": llm_url,
        "TUTOR_LLM_MODEL": "tutor",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "tutor.settings",
    }


@contextmanager
def throwaway_database(server_url: str, name: str) -> Iterator[str]:
    import psycopg

    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server_url}/{name}"
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(f"{server_url}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def forget_redis_keys(redis_url: str, prefix: str) -> int:
    """Delete what the run left in Redis (rate-limit counters, channel groups): they expire, but not at once."""
    import redis

    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    return int(client.delete(*keys)) if keys else 0


def wait_for_http(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 - a loopback URL we built
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def wait_for_port(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@contextmanager
def process(args: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        child = subprocess.Popen(args, cwd=REPO_ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield child
        finally:
            child.terminate()
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


# -- the students --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Student:
    cookie: str
    session_id: int


# Students whose sessions carry the idle sockets: each socket re-syncs once, well under the per-user sync limit.
IDLE_STUDENTS = 50


def seed_students(counts: list[int], idle: int = 0) -> dict[int, list[Student]]:
    """Demo content and class, then fresh students per level (so each level starts from opened sessions, not from
    the dialogue an earlier level left behind), each with a session on the first demo problem of an assignment."""
    from django.conf import settings
    from django.test import Client

    from tutor import tutoring
    from tutor.demo import DEMO_JOIN_CODE, demo_load
    from tutor.models import Assignment, Enrollment, User

    demo_load()
    assignment = Assignment.objects.select_related("classroom").filter(classroom__join_code=DEMO_JOIN_CODE).first()
    if assignment is None:
        raise RuntimeError("the demo class has no assignment")
    problem = assignment.problem_set.problems.filter(is_current=True).order_by("position", "id").first()
    if problem is None:
        raise RuntimeError("the demo assignment has no problem")
    students: dict[int, list[Student]] = {}
    groups = [(count, f"load-{count}") for count in counts] + ([(IDLE_STUDENTS, "idle")] if idle else [])
    for count, name in groups:
        for i in range(count):
            # No password: hashing one costs a good part of a second, and the cookie comes from force_login.
            user = User.objects.create_user(username=f"{name}-{i}", password=None, role=User.Role.STUDENT)
            Enrollment.objects.create(classroom=assignment.classroom, student=user)
            session, _ = tutoring.session_begin(student=user, problem=problem, assignment=assignment)
            client = Client()
            client.force_login(user)
            cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
            students.setdefault(-1 if name == "idle" else count, []).append(Student(cookie, session.pk))
    return students


def stored_counts(session_ids: list[int]) -> tuple[int, int]:
    """(student turns, tutor replies) stored for these sessions, the tutor's opening question left out."""
    from tutor.models import Turn

    turns = Turn.objects.filter(session_id__in=session_ids)
    return turns.filter(role=Turn.Role.STUDENT).count(), turns.filter(role=Turn.Role.TUTOR).count() - len(session_ids)


def run_clients(spec: dict[str, Any], daphne_pids: list[int]) -> tuple[dict[str, Any], int]:
    """Run the students in a process of their own (``bench.load_clients``); sample daphne's memory meanwhile.

    Their own process: Django, once set up here, has already chosen Twisted for autobahn's async helpers, and the
    students' event loop should not share a GIL with this process's database work anyway."""
    import psutil

    servers = [psutil.Process(pid) for pid in daphne_pids]

    def rss() -> int:
        return sum(p.memory_info().rss for p in servers)

    peak_rss = rss()
    with tempfile.TemporaryFile() as out:
        clients = subprocess.Popen(
            [sys.executable, "-m", "bench.load_clients"], cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=out
        )
        assert clients.stdin is not None
        clients.stdin.write(json.dumps(spec).encode())
        clients.stdin.close()
        while clients.poll() is None:
            peak_rss = max(peak_rss, rss())
            time.sleep(0.25)
        out.seek(0)
        result: dict[str, Any] = json.loads(out.read() or b"{}")
    return result, peak_rss


def cpu_seconds(pids: list[int]) -> float:
    import psutil

    return sum(float(t.user + t.system) for t in (psutil.Process(pid).cpu_times() for pid in pids))


def spread(students: list[Student], base_urls: list[str]) -> list[list[Any]]:
    """Each student's socket on one of the servers, in turn: as a load balancer spreads new connections."""
    return [[s.cookie, s.session_id, base_urls[i % len(base_urls)]] for i, s in enumerate(students)]


def measure_level(students: list[Student], base_urls: list[str], turns: int, daphne_pids: list[int]) -> dict[str, Any]:
    cpu_before = cpu_seconds(daphne_pids)
    result, peak_rss = run_clients({"turns": turns, "students": spread(students, base_urls)}, daphne_pids)
    timings = [TurnTiming(**t) for t in result.get("timings", [])]
    wall = float(result.get("wall_s", 0.0))
    # Replies still finishing after a lost turn are counted in this level's stored figures, not the next one's.
    time.sleep(1.0)
    cpu = cpu_seconds(daphne_pids) - cpu_before
    ids = [s.session_id for s in students]
    stored, replies = stored_counts(ids)
    level = summarize(
        timings, sent=len(students) * turns, stored=stored, replies_stored=replies, first_token_s=STANDIN_FIRST_TOKEN_S
    )
    level |= {"daphne_cpu_s": round(cpu, 2), "daphne_rss_mb": round(peak_rss / 2**20, 1), "wall_s": round(wall, 1)}
    level["reply_sources"] = reply_sources(ids)
    return level


def reply_sources(session_ids: list[int]) -> dict[str, int]:
    """How the stored replies were phrased: the model's text, or the template the guard fell back to."""
    from collections import Counter

    from tutor.models import Turn

    verdicts = Turn.objects.filter(session_id__in=session_ids, role=Turn.Role.TUTOR, seq__gt=1).values_list(
        "guard_verdict", flat=True
    )
    return dict(Counter(str((v or {}).get("source", "?")) for v in verdicts))


def daphne_command(port: int) -> list[str]:
    return [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "tutor.asgi:application"]


def measure_idle(
    students: list[Student], base_urls: list[str], sockets: int, seconds: float, daphne_pids: list[int]
) -> dict[str, Any]:
    """Hold ``sockets`` idle websockets (spread over these students' sessions and the servers) for ``seconds``."""
    tabs = [students[i % len(students)] for i in range(sockets)]
    result, peak_rss = run_clients({"idle_seconds": seconds, "students": spread(tabs, base_urls)}, daphne_pids)
    idle: dict[str, Any] = result.get("idle", {})
    idle["daphne_rss_mb"] = round(peak_rss / 2**20, 1)
    return idle


def idle_row(idle: dict[str, Any]) -> str:
    return (
        f"idle sockets: {idle.get('opened', 0)} of {idle.get('requested', 0)} opened in {idle.get('opening_s')} s, "
        f"held {idle.get('idle_s', 0):.0f} s: {idle.get('dropped', 0)} dropped, {idle.get('answered', 0)} answered "
        f"the re-sync afterwards; daphne peak RSS {idle.get('daphne_rss_mb', 0):.0f} MB"
    )


def log_problems(log: Path) -> int:
    """Tracebacks daphne logged: a level with errors is not a clean measurement, whatever its latencies."""
    return log.read_text(errors="replace").count("Traceback")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sessions", default="1,10", help="comma-separated concurrency levels")
    parser.add_argument("--turns", type=int, default=3, help="messages per student per level")
    parser.add_argument("--database", default="tutor_bench_load", help="throw-away database, dropped at the end")
    parser.add_argument("--port", type=int, default=8765, help="daphne's port (the first one, with --workers)")
    parser.add_argument("--workers", type=int, default=1, help="daphne processes, on consecutive ports")
    parser.add_argument("--idle", type=int, default=0, help="idle websockets to hold after the levels")
    parser.add_argument("--idle-seconds", type=float, default=300.0, help="how long the idle sockets are held")
    parser.add_argument("--postgres", default=DEFAULT_SERVER_URL, help="PostgreSQL server URL, without a database")
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL", DEFAULT_REDIS_URL))
    args = parser.parse_args(argv)
    counts = [int(c) for c in args.sessions.split(",") if c.strip()]
    standin_port = free_port()
    prefix = f"bench-load-{os.getpid()}"
    logs = Path(tempfile.mkdtemp(prefix="bench-load-"))
    started = time.perf_counter()
    levels: dict[str, dict[str, Any]] = {}
    idle: dict[str, Any] | None = None
    with throwaway_database(args.postgres, args.database) as database_url:
        llm_url = f"http://127.0.0.1:{standin_port}/v1"
        env = app_env(database_url=database_url, redis_url=args.redis, llm_url=llm_url, prefix=prefix)
        os.environ.update(env)
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        students = seed_students(counts, idle=args.idle)
        standin = [sys.executable, "-m", "bench.load_standin", "--port", str(standin_port)]
        standin += ["--first-token-s", str(STANDIN_FIRST_TOKEN_S), "--tokens", str(STANDIN_TOKENS)]
        ports = [args.port + i for i in range(args.workers)]
        with contextlib.ExitStack() as services:
            services.enter_context(process(standin, env, logs / "standin.log"))
            servers = [
                services.enter_context(process(daphne_command(port), env, logs / f"daphne-{port}.log"))
                for port in ports
            ]
            wait_for_port(standin_port)
            for port in ports:
                wait_for_http(f"http://127.0.0.1:{port}/healthz")
            pids = [server.pid for server in servers]
            print(f"daphne pids {pids} on ports {ports}; stand-in model on {standin_port}; logs in {logs}")
            print(f"stand-in: {STANDIN_FIRST_TOKEN_S * 1000:.0f} ms to first token, {STANDIN_TOKENS} tokens")
            print(HEADER)
            base_urls = [f"ws://127.0.0.1:{port}" for port in ports]
            for count in counts:
                level = measure_level(students[count], base_urls, args.turns, pids)
                levels[str(count)] = level
                print(row(count, level), flush=True)
            if args.idle:
                idle = measure_idle(students[-1], base_urls, args.idle, args.idle_seconds, pids)
                print(idle_row(idle), flush=True)
        tracebacks = sum(log_problems(logs / f"daphne-{port}.log") for port in ports)
        forget_redis_keys(args.redis, prefix)
    for sessions, figures in levels.items():
        print(f"replies at {sessions}: {figures['reply_sources']}")
    print(f"daphne tracebacks logged: {tracebacks}")
    verdict = {True: "yes", False: "NO", None: "not measured"}
    print(
        f"target: added time to first token < {TARGET_ADDED_TTFT_MS:.0f} ms at {TARGET_SESSIONS} students, "
        f"no turn lost: p50 {verdict[target_holds(levels, 'p50')]}, p95 {verdict[target_holds(levels, 'p95')]}"
    )
    meta = {
        "turns": args.turns,
        "standin_first_token_ms": STANDIN_FIRST_TOKEN_S * 1000,
        "standin_tokens": STANDIN_TOKENS,
        "daphne_workers": args.workers,
        "daphne_tracebacks": tracebacks,
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg()[0],
        "python": platform.python_version(),
        "wall_s": round(time.perf_counter() - started, 1),
    }
    if idle is not None:
        meta["idle"] = idle
    print(summary_line(levels, meta))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
