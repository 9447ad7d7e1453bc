"""The tutoring session's websocket: students send messages, everyone watching sees the tutor's reply stream in.

Close codes: 4401 not signed in, 4403 not allowed (also used for sessions that do not exist, so ids reveal nothing),
4400 a frame the page never sends (tutor/frames.py checks every frame before anything acts on it).

Every student message is answered to the page that sent it, by the client id the page gave it: with the stored turn,
which carries the id (the acknowledgement), or with a notice that names the id it refuses. The page resends whatever
was not answered when it reconnects; a client id already stored is acknowledged again and nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
import time
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any

import psycopg
from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from channels.utils import await_many_dispatch
from django.conf import settings
from django.template.loader import render_to_string

from models.backends import Connection, TutorLLMError, close_connection
from pedagogy.guard import GuardVerdict, check_reply, releasable_prefix
from pedagogy.realize import deliver

from . import (
    admission,
    db_threads,
    frames,
    message_trip,
    permissions,
    ratelimit,
    reply_locks,
    services,
    session_fanout,
    tutoring,
    urgent_work,
)
from .db_threads import db_call
from .llm import prompt_mode, tutor_llm
from .models import Turn, TutoringSession, User
from .opened_stream import OpenedStream, connect_ahead

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_BAD_MESSAGE = 4400

# Documented in docs/operations.md. A student's message is a sentence or two of math; 2,000 characters is generous.
MAX_MESSAGE_CHARS = getattr(settings, "TUTOR_MAX_MESSAGE_CHARS", 2000)
MESSAGES_PER_MINUTE = getattr(settings, "TUTOR_MESSAGES_PER_MINUTE", 20)
SYNCS_PER_MINUTE = 30
REPLY_TIMEOUT_SECONDS = getattr(settings, "TUTOR_REPLY_TIMEOUT_SECONDS", 45)
# Streaming sends the whole text so far (simple, and order-proof); this caps how often.
TOKEN_FLUSH_SECONDS = 0.05


def flush_due(now: float, last_sent_at: float | None) -> bool:
    """Whether streamed text may go out now. Only a frame actually sent starts the wait: a flush with nothing to
    send must not hold back the text that becomes releasable a moment later."""
    return last_sent_at is None or now - last_sent_at >= TOKEN_FLUSH_SECONDS


# A reply runs as a task of its own, not of the socket that asked for it: if the student's connection drops
# mid-reply, the reply is still finished, guarded and stored, and shown when the student comes back.
_REPLIES: set[asyncio.Task[None]] = set()


def session_group(session_id: int) -> str:
    return f"session-{session_id}"


async def replies_in_flight() -> None:
    """Wait for every reply this process has started (tests and graceful shutdown)."""
    while _REPLIES:
        await asyncio.gather(*list(_REPLIES), return_exceptions=True)


# Each function below is one trip to the database thread pool (tutor/db_threads.py): a turn's database work is
# grouped into as few trips as it can be, because in a burst every trip waits for a free thread.


def _session(session_id: int) -> TutoringSession | None:
    # With everything a rendering of the session reads: a stored turn or reply is checked and rendered from one read.
    return TutoringSession.objects.select_related("student", "problem", "assignment").filter(pk=session_id).first()


@db_call
def access_at_connect(user: Any, session_id: int) -> tuple[TutoringSession, bool, bool, bool] | None:
    """The session with (may watch, may write, may correct tutor turns), or None when it does not exist."""
    session = _session(session_id)
    if session is None:
        return None
    return (
        session,
        permissions.can_view_session(user, session),
        permissions.can_work_in_session(user, session),
        permissions.can_correct_turns(user, session),
    )


def _watched_now(user_id: int, session_id: int) -> TutoringSession | None:
    """The session, read fresh, while the user may still watch it; None once they may not: a student removed from
    the class, or a deactivated teacher, loses the transcript at once."""
    session = _session(session_id)
    if session is None:
        return None
    # The session's own student is read with it: only someone else (a teacher) costs a query of their own.
    user = session.student if session.student_id == user_id else User.objects.filter(pk=user_id).first()
    return session if user is not None and permissions.can_view_session(user, session) else None


@functools.partial(db_call, urgency=db_threads.PLAN)
def plan_reply(session_id: int, message: str) -> tutoring.PlannedTurn:
    return tutoring.turn_plan_for(session_id=session_id, message=message, mode=prompt_mode())


complete_reply = db_call(tutoring.turn_complete)
turn_unanswered = db_call(tutoring.turn_unanswered)
rate_limit_hit = db_call(ratelimit.hit)  # the cache is Redis: a blocking client, so off the event loop too


def _notice(text: str, *, refused: str | None = None) -> str:
    """A notice for the page; ``refused`` names the message it turns away, so the page stops resending it."""
    return render_to_string("sessions/_notice.html", {"notice": text, "refused": refused})


_warmed_up = False


def _after_warm_up() -> None:
    """Once this process has given a reply (the problem's content, sympy and the templates are loaded by then), every
    object it holds is taken out of the garbage collector's full collections (``gc.freeze``): those then look only at
    what was made since, where each otherwise walked the whole process, everything loaded at start included, and
    stopped every socket's replies for a fifth of a second in a class's burst. Objects taken out are still freed when
    no longer referenced; only a cycle among them that is dropped later stays, at most what one reply had in hand."""
    global _warmed_up
    if not _warmed_up:
        _warmed_up = True
        gc.freeze()


@dataclass(frozen=True)
class Streamed:
    """A model reply as streamed: its whole text (None when there is none to judge), what the page shows, and the
    guard's verdict where it stopped the reply mid-stream."""

    text: str | None
    shown: str
    stopped: GuardVerdict | None = None


def _model_connection_ahead() -> Connection | None:
    try:
        return connect_ahead(tutor_llm())
    except TutorLLMError:
        return None  # the reply finds the model unavailable, and says so, when it asks


def _start_reply(reply: Coroutine[Any, Any, None]) -> None:
    task = asyncio.create_task(reply)
    _REPLIES.add(task)
    task.add_done_callback(_REPLIES.discard)


class SessionConsumer(AsyncWebsocketConsumer):
    session: TutoringSession
    can_write: bool
    can_correct: bool
    live_events: asyncio.Queue[dict[str, Any]]
    counted_as_writer = False  # by reply_locks.writer_connected, until the socket goes

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        """As Channels' consumer, with a third source of events: this process's replies put their events on the
        socket's own queue (tutor/session_fanout.py), dispatched in order with the browser's and the layer's."""
        self.scope, self.base_send = scope, send
        self.live_events = asyncio.Queue()
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        sources = [receive, self.live_events.get]
        if self.channel_layer is not None:
            self.channel_name = await self.channel_layer.new_channel()
            self.channel_receive = functools.partial(self.channel_layer.receive, self.channel_name)
            sources.append(self.channel_receive)
        with contextlib.suppress(StopConsumer):
            await await_many_dispatch(sources, self.dispatch)

    async def dispatch(self, message: dict[str, Any]) -> None:
        """As Channels' dispatch, less its closing of the shared database thread's stale connections before every
        event (a thread hop per streamed frame): this consumer's database work runs on tutor/db_threads.py, which
        closes them around each call."""
        if session_fanout.from_here(message):
            return  # this process's own event, back through a layer that sends to the whole group: delivered already
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        access = await access_at_connect(user, int(self.scope["url_route"]["kwargs"]["session_id"]))
        if access is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        session, can_view, can_write, can_correct = access
        if not can_view:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.session, self.can_write, self.can_correct = session, can_write, can_correct
        self.group = session_group(session.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        session_fanout.join(self.group, self)
        await self.accept()
        if can_write:
            # The connection this page's first reply will hold its locks on, opened before the student writes.
            self.counted_as_writer = True
            _start_reply(reply_locks.writer_connected(message_trip.warm_up))
            # A reply lost with the worker that was writing it (stopped mid-reply) is given when the student is back.
            _start_reply(self.answer_unanswered(session.pk))

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            session_fanout.leave(self.group, self)
            await self.channel_layer.group_discard(self.group, self.channel_name)
        if self.counted_as_writer:
            self.counted_as_writer = False
            await reply_locks.writer_disconnected()

    # -- from the browser ----------------------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            frame = frames.parse_frame(text_data, actions=tutoring.HELP_MESSAGES)
        except frames.MalformedFrame as exc:
            logger.info("session %s: malformed frame closed the socket: %s", self.session.pk, exc)
            await self.close(code=CLOSE_BAD_MESSAGE)
            return
        if isinstance(frame, frames.SyncRequest):
            # A page asks once per (re)connect; a loop of them would re-render the whole transcript each time.
            allowed = await rate_limit_hit(f"sync:{self.scope['user'].pk}", limit=SYNCS_PER_MINUTE, window_seconds=60)
            if allowed:
                await self.send_missed_turns(frame.after)
            return
        await self.receive_message(frame)

    async def receive_message(self, frame: frames.StudentMessage) -> None:
        """Store a student's message and start the reply; every message is answered to this page by its client id:
        the stored turn (an acknowledgement, also for a resend of a turn already stored) or a refusal notice."""
        client_id = frame.client_id
        if not self.can_write:
            await self.send_notice("This session is read-only for you.", refused=client_id)
            return
        # The reply is declared owed before its turn is stored, so that a page opening meanwhile does not take the
        # turn for one whose reply was lost and answer it too. Declared before the message is even checked, in the
        # same trip to the database that checks and stores it; a message turned away lets the claim go.
        # Urgent from here until the model is asked (tutor/urgent_work.py): other work of this process waits.
        on_its_way = urgent_work.Urgent()
        try:
            claim = await reply_locks.claim_reply(self.session.pk, ask_now=False)
        except BaseException:
            on_its_way.end()
            raise
        # The model server's connection opens while the message is stored and its reply planned.
        model_connection = _model_connection_ahead()
        try:
            # Stored (and committed) before the model is called: nothing a student typed is ever lost.
            turn, html, trip = await self.admit(frame, claim)
        except BaseException:
            on_its_way.end()
            close_connection(model_connection)
            await claim.release()
            raise
        if turn is None:
            on_its_way.end()
            close_connection(model_connection)
            await claim.release()
            await self.send(text_data=html)
            return
        # The reply is owed whatever happens to this page or to the broadcast (other tabs that miss the turn catch up
        # when they sync): once the turn is stored, the claim always goes to its reply, which starts now. The reply
        # tells the session's other tabs of the turn, once its model is asked.
        _start_reply(
            self.reply_to(
                turn, claim, on_its_way=on_its_way, announce=True, trip=trip, model_connection=model_connection
            )
        )
        # Straight to this page, not through the channel layer: the acknowledgement must not depend on it.
        await self.send(text_data=html)

    # -- the tutor's reply ---------------------------------------------------------------------------------

    async def answer_unanswered(self, session_id: int) -> None:
        """Reply to the student turn that ends the transcript, when no worker, in any process, owes it a reply."""
        if await turn_unanswered(session_id) is None:
            return  # the usual case, found without taking the session's locks
        claim = await reply_locks.claim_if_nothing_owed(session_id)
        if claim is None:
            return  # a reply is owed or under way: it answers that turn
        try:
            turn = await turn_unanswered(session_id)
            await claim.share()
        except BaseException:
            await claim.release()
            raise
        if turn is None:
            await claim.release()
            return
        await self.reply_to(turn, claim)

    async def reply_to(
        self,
        student_turn: Turn,
        claim: reply_locks.ReplyClaim,
        *,
        on_its_way: urgent_work.Urgent | None = None,
        announce: bool = False,
        trip: message_trip.Trip | None = None,
        model_connection: Connection | None = None,
    ) -> None:
        """Plan, phrase, guard and store the reply to ``student_turn``. ``on_its_way`` ends once the model is asked;
        with ``announce`` the session's other tabs are told of the student turn first (then of the reply). ``trip``
        is the message's way to the database, when it read what the plan needs; ``model_connection``, the model
        server's connection opened meanwhile."""
        session_id = student_turn.session_id
        bubble = f"pending-{student_turn.seq}"
        layer, group = self.channel_layer, session_group(session_id)
        on_its_way = on_its_way or urgent_work.Urgent()
        # The claim is given up once the reply is stored or has failed; the turn is this session's, in every process.
        try:
            async with claim, claim.turn():
                opened: OpenedStream | None = None
                announced = False
                try:
                    planned = await self.plan(claim.connection, session_id, student_turn.text, trip)
                    llm = tutor_llm()
                    connection, model_connection = model_connection, None
                    opened = await OpenedStream.open(llm, planned.messages, connection=connection)
                    on_its_way.end()
                    # What no student is waiting on goes once the urgent work of the moment is done.
                    await urgent_work.after_urgent()
                    if announce:
                        announced = True
                        await self.announce_turn(student_turn)
                    # Streamed text goes to the sockets watching now; a socket opening later shows the stored reply.
                    watchers_elsewhere = await session_fanout.others(layer, group)
                    start = {"type": "reply.start", "bubble": bubble}
                    session_fanout.deliver_here(group, start)
                    await session_fanout.send_to_others(layer, group, start, watchers_elsewhere)
                    streamed = await self.stream_model(opened, planned, bubble, watchers_elsewhere)
                    delivery = deliver(
                        streamed.text,
                        planned.plan,
                        planned.context,
                        previous=planned.previous,
                        shown=streamed.shown,
                        stopped=streamed.stopped,
                    )
                    completed = await complete_reply(planned=planned, delivery=delivery, backend=llm.name)
                except Exception:
                    logger.exception("reply to turn %s of session %s failed", student_turn.seq, session_id)
                    if announce and not announced:
                        await self.announce_turn(student_turn)
                    await session_fanout.publish(layer, group, {"type": "reply.failed", "bubble": bubble})
                    return
                finally:
                    on_its_way.end()
                    if opened is not None:
                        await opened.close()
                final = {"type": "reply.final", "bubble": bubble, "turn_id": completed.turn.pk}
                await session_fanout.publish(layer, group, final)
        finally:
            close_connection(model_connection)  # not taken: the reply ended before it asked the model
        _after_warm_up()

    async def announce_turn(self, student_turn: Turn) -> None:
        """Tell the session's other tabs of a stored student turn (the sender's page has its acknowledgement). A
        failure here (the channel layer is down) costs no reply: a tab that missed the turn catches up when it
        syncs."""
        event = {"type": "turn.stored", "turn_id": student_turn.pk, "sender": self.channel_name}
        try:
            await session_fanout.publish(self.channel_layer, self.group, event)
        except Exception as exc:
            logger.warning(
                "session %s: other tabs not told of turn %s: %r", student_turn.session_id, student_turn.seq, exc
            )

    async def stream_model(
        self,
        opened: OpenedStream | None,
        planned: tutoring.PlannedTurn,
        bubble: str,
        watchers_elsewhere: list[str] | None,
    ) -> Streamed:
        """The model's whole reply, streamed to the page as it comes, and what the page shows of it; no whole reply
        when the model is off, failed, or broke the plan mid-reply.

        Only text the guard has already passed reaches the page, and only text it can never take back: the reply
        goes out a sentence or clause at a time (up to punctuation and a space), each piece once the partial check
        passes everything up to it, so a number still being written ("three" of "three half-hours") is never judged
        alone, and what the page shows only ever grows into the stored reply. At the first sentence or clause the
        plan forbids, streaming stops: the student never sees that clause. What they do see stays where the guard
        lets it (pedagogy.realize.deliver: completed with what the plan says and it did not); the template replaces
        it only when nothing of it may stay.

        The reply's first text is urgent work (tutor/urgent_work.py); each later piece waits for the urgent work of
        the moment: another student's first words matter more than this reply's next ones.
        """
        if opened is None:
            return Streamed(None, "")
        layer, group = self.channel_layer, session_group(planned.session_id)
        plan, context = planned.plan, planned.context
        pieces: list[str] = []
        passed = ""  # the longest releasable prefix the guard has passed
        shown = ""  # what the page shows: always a prefix of ``passed``, stripped
        sent_at: float | None = None
        first_text: urgent_work.Urgent | None = None
        try:
            async with asyncio.timeout(REPLY_TIMEOUT_SECONDS):
                async for piece in opened:
                    if not shown and first_text is None:
                        first_text = urgent_work.Urgent()
                    elif shown:
                        await urgent_work.after_urgent()
                    pieces.append(piece)
                    ready = releasable_prefix("".join(pieces))
                    if len(ready) > len(passed):
                        # Judged a sentence or clause at a time, as each becomes releasable (the whole reply is judged
                        # again when it is stored): the checks grow with the reply's clauses, not with its tokens,
                        # which under load is most of a turn's CPU.
                        verdict = check_reply(ready, plan, context, partial=True)
                        if not verdict.ok:
                            logger.info("model reply stopped mid-stream: %s", "; ".join(verdict.reasons))
                            return Streamed(None, shown, verdict)
                        passed = ready
                    if len(passed.strip()) > len(shown) and flush_due(time.monotonic(), sent_at):
                        shown, sent_at = passed.strip(), time.monotonic()
                        token = {"type": "reply.token", "bubble": bubble, "text": shown}
                        session_fanout.deliver_here(group, token)
                        await session_fanout.send_to_others(layer, group, token, watchers_elsewhere)
                        if first_text is not None:
                            first_text.end()
        except (TutorLLMError, TimeoutError) as exc:
            logger.warning("tutor model failed: %s", exc)
            return Streamed(None, shown)
        finally:
            if first_text is not None:
                first_text.end()
            # Leaving early (a withdrawn reply) stops the generation at once, not at garbage collection.
            await opened.close()
        return Streamed("".join(pieces).strip() or None, shown)

    # -- to the browser (group events) ---------------------------------------------------------------------

    async def admit(
        self, frame: frames.StudentMessage, claim: reply_locks.ReplyClaim
    ) -> tuple[Turn | None, str, message_trip.Trip | None]:
        """Check a message and store it (once per client id): the turn stored now with its acknowledgement, or None
        with what the page is sent instead (an acknowledgement again, or a refusal). On the claim's own PostgreSQL
        connection when it has one, in the one round trip that also declares the reply owed and reads what its plan
        needs (returned: tutor/message_trip.py); else on a database thread."""
        client_id = frame.client_id
        text = tutoring.HELP_MESSAGES[frame.action] if frame.action else (frame.message or "").strip()
        refused = admission.text_refusal(text, max_chars=MAX_MESSAGE_CHARS)
        if refused is not None:
            return None, _notice(refused, refused=client_id), None
        if claim.connection is not None:
            with_turn = await claim.take_turn_if_free()
            try:
                trip = await message_trip.send(
                    claim.connection,
                    session=self.session,
                    client_id=client_id,
                    text=text,
                    per_minute=MESSAGES_PER_MINUTE,
                    with_turn=with_turn,
                )
            except psycopg.Error as exc:
                # Checked and stored again on a thread. A message the failed round trip did store is found there as a
                # resend and acknowledged; its reply is then given when the student next opens the session.
                logger.warning(
                    "session %s: storing a message on its reply's connection failed: %r", self.session.pk, exc
                )
                await claim.drop_connection(turn_maybe_locked=with_turn)
            else:
                claim.owed_locked_on_server()
                if trip.turn_locked:
                    claim.turn_locked_on_server()
                if (stored := trip.admitted.turn) is not None:
                    # The turn just stored is the acknowledgement as it is: no read to render it.
                    return stored, self._render_turn_list([stored]), trip
                return None, await self.answer_refused(trip.admitted.facts, client_id), None
        turn, html = await db_call(self.admit_here, urgency=db_threads.ADMIT)(client_id, text)
        return turn, html, None

    def admit_here(self, client_id: str, text: str) -> tuple[Turn | None, str]:
        """:meth:`admit` through Django's connection, on a database thread."""
        facts = admission.facts_here(session_id=self.session.pk, client_id=client_id)
        if facts.resent is None and (refused := admission.refusal(facts, per_minute=MESSAGES_PER_MINUTE)) is not None:
            return None, _notice(refused, refused=client_id)
        if facts.resent is not None:
            return None, self._render_turns(turn_ids=[facts.resent])
        turn, created = services.turn_append(
            session=self.session, role=Turn.Role.STUDENT, text=text, client_message_id=client_id
        )
        if not created:
            # The same resend arrived twice at once; the first is answering it.
            return None, self._render_turns(turn_ids=[turn.pk])
        return turn, self._render_turn_list([turn])

    async def answer_refused(self, facts: admission.Facts, client_id: str) -> str:
        """What the page gets for a message not stored: a resend of a stored message (the page lost its connection
        before the acknowledgement came) is acknowledged again and nothing more, not counted against the rate limit,
        not stored or answered twice; any other is refused with a notice that names it."""
        if facts.resent is not None:
            return await self.render_turns(turn_ids=[facts.resent])
        refused = admission.refusal(facts, per_minute=MESSAGES_PER_MINUTE)
        return _notice(refused or "That message could not be stored. Send it again.", refused=client_id)

    async def plan(
        self, conn: Any, session_id: int, message: str, trip: message_trip.Trip | None = None
    ) -> tutoring.PlannedTurn:
        """The reply's plan: from what the message's trip read (tutor/message_trip.py), else read on the reply's own
        connection (no trip to the database threads before the model is asked), else, or where the ORM's way is
        needed, on a database thread."""
        if trip is not None and trip.planning_row is not None:
            planned = tutoring.plan_from_row(
                session_id, trip.planning_row, message=message, mode=prompt_mode(), started=trip.started
            )
            if planned is not None:
                return planned
        elif conn is not None:
            try:
                planned = await tutoring.turn_plan_on(conn, session_id=session_id, message=message, mode=prompt_mode())
            except psycopg.Error as exc:
                logger.warning("session %s: planning on the reply's connection failed: %r", session_id, exc)
            else:
                if planned is not None:
                    return planned
        return await plan_reply(session_id, message)

    async def send_if_still_allowed(self, render: Callable[[TutoringSession], str]) -> None:
        """Access is checked again before each stored turn is sent, in the same trip to the database as its
        rendering: a student removed from the class, or a teacher deactivated, stops receiving the transcript on
        sockets opened before."""

        def check_and_render() -> str | None:
            session = _watched_now(self.scope["user"].pk, self.session.pk)
            return render(session) if session is not None else None

        html: str | None = await db_call(check_and_render)()
        if html is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.send(text_data=html)

    async def turn_stored(self, event: dict[str, Any]) -> None:
        if event.get("sender") == self.channel_name:
            return  # this page has the turn already: its acknowledgement
        await self.send_if_still_allowed(lambda session: self._render_turns(turn_ids=[event["turn_id"]]))

    async def reply_start(self, event: dict[str, Any]) -> None:
        await self.send(text_data=render_to_string("sessions/_pending.html", {"bubble": event["bubble"]}))

    async def reply_token(self, event: dict[str, Any]) -> None:
        await self.send(text_data=render_to_string("sessions/_token.html", event))

    async def reply_failed(self, event: dict[str, Any]) -> None:
        await self.send(text_data=render_to_string("sessions/_failed.html", {"bubble": event["bubble"]}))

    async def reply_final(self, event: dict[str, Any]) -> None:
        await self.send_if_still_allowed(lambda session: self._render_final(session, event["turn_id"], event["bubble"]))

    def _render_final(self, session: TutoringSession, turn_id: int, bubble: str) -> str:
        """The finished reply with the panels it changes, from the session just read to check access."""
        turn = Turn.objects.get(pk=turn_id, session_id=session.pk)
        turn.session = session
        solved = session.status == TutoringSession.Status.SOLVED
        return render_to_string(
            "sessions/_final.html",
            {
                "bubble": bubble,
                "turn": turn,
                "session": session,
                "user": self.scope["user"],
                "mastery": tutoring.mastery_rows(session, tutoring.mastery_before(turn)),
                "hints_left": tutoring.hints_left(session),
                "next_problem": tutoring.next_problem_for(session) if solved else None,
                "moves": tutoring.session_skill_moves(session) if solved else [],
                "can_write": self.can_write,
                "can_correct": self.can_correct,
            },
        )

    def _render_turns(self, *, turn_ids: list[int] | None = None, after: int | None = None) -> str:
        turns = Turn.objects.select_related("session").filter(session_id=self.session.pk)
        turns = turns.filter(pk__in=turn_ids) if turn_ids is not None else turns.filter(seq__gt=after or 0)
        return self._render_turn_list(turns.order_by("seq"))

    def _render_turn_list(self, turns: Iterable[Turn]) -> str:
        return render_to_string(
            "sessions/_turns_oob.html", {"turns": turns, "user": self.scope["user"], "can_correct": self.can_correct}
        )

    async def render_turns(self, *, turn_ids: list[int] | None = None, after: int | None = None) -> str:
        html: str = await db_call(self._render_turns)(turn_ids=turn_ids, after=after)
        return html

    async def send_missed_turns(self, after: int) -> None:
        html = await self.render_turns(after=after)
        if "data-seq" in html:
            await self.send(text_data=html)

    async def send_notice(self, text: str, *, refused: str | None = None) -> None:
        await self.send(text_data=_notice(text, refused=refused))
