"""The tutoring session's websocket: students send messages, everyone watching sees the tutor's reply stream in.

Close codes: 4401 not signed in, 4403 not allowed (also used for sessions that do not exist, so ids reveal nothing),
4400 a frame that is not a JSON message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Coroutine
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.template.loader import render_to_string

from models.backends import TutorLLMError
from pedagogy.guard import check_reply, releasable_prefix
from pedagogy.realize import deliver

from . import permissions, ratelimit, reply_locks, services, tutoring
from .llm import prompt_mode, tutor_llm
from .models import Turn, TutoringSession, User

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_BAD_MESSAGE = 4400

# Documented in docs/operations.md. A student's message is a sentence or two of math; 2,000 characters is generous.
MAX_MESSAGE_CHARS = getattr(settings, "TUTOR_MAX_MESSAGE_CHARS", 2000)
MAX_FRAME_BYTES = 16_384
MESSAGES_PER_MINUTE = getattr(settings, "TUTOR_MESSAGES_PER_MINUTE", 20)
SYNCS_PER_MINUTE = 30
REPLY_TIMEOUT_SECONDS = getattr(settings, "TUTOR_REPLY_TIMEOUT_SECONDS", 45)
MAX_NEW_TOKENS = 160
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


@database_sync_to_async
def load_session(session_id: int) -> TutoringSession | None:
    return TutoringSession.objects.select_related("student", "problem").filter(pk=session_id).first()


@database_sync_to_async
def load_user(user_id: int) -> User | None:
    return User.objects.filter(pk=user_id).first()


@database_sync_to_async
def check_access(user: Any, session: TutoringSession) -> tuple[bool, bool, bool]:
    """(may watch, may write, may correct tutor turns)."""
    return (
        permissions.can_view_session(user, session),
        permissions.can_work_in_session(user, session),
        permissions.can_correct_turns(user, session),
    )


@database_sync_to_async
def current_status(session_id: int) -> str:
    return TutoringSession.objects.values_list("status", flat=True).get(pk=session_id)


@database_sync_to_async
def store_student_turn(session: TutoringSession, text: str, client_id: str | None) -> tuple[Turn, bool]:
    return services.turn_append(session=session, role=Turn.Role.STUDENT, text=text, client_message_id=client_id)


@database_sync_to_async
def plan_reply(session_id: int, message: str) -> tutoring.PlannedTurn:
    session = TutoringSession.objects.select_related("student", "assignment", "problem").get(pk=session_id)
    return tutoring.turn_plan(session=session, message=message, mode=prompt_mode())


complete_reply = database_sync_to_async(tutoring.turn_complete)
turn_unanswered = database_sync_to_async(tutoring.turn_unanswered)


def _start_reply(reply: Coroutine[Any, Any, None]) -> None:
    task = asyncio.create_task(reply)
    _REPLIES.add(task)
    task.add_done_callback(_REPLIES.discard)


class SessionConsumer(AsyncWebsocketConsumer):
    session: TutoringSession
    can_write: bool
    can_correct: bool

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        session = await load_session(int(self.scope["url_route"]["kwargs"]["session_id"]))
        if session is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        can_view, can_write, can_correct = await check_access(user, session)
        if not can_view:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.session, self.can_write, self.can_correct = session, can_write, can_correct
        self.group = session_group(session.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        if can_write:
            # A reply lost with the worker that was writing it (stopped mid-reply) is given when the student is back.
            _start_reply(self.answer_unanswered(session.pk))

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    # -- from the browser ----------------------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if text_data is None or len(text_data.encode()) > MAX_FRAME_BYTES:
            await self.close(code=CLOSE_BAD_MESSAGE)
            return
        try:
            payload = json.loads(text_data)
        except json.JSONDecodeError:
            payload = None
        if not isinstance(payload, dict):
            await self.close(code=CLOSE_BAD_MESSAGE)
            return
        if payload.get("type") == "sync":
            # A page asks once per (re)connect; a loop of them would re-render the whole transcript each time.
            allowed = await database_sync_to_async(ratelimit.hit)(
                f"sync:{self.scope['user'].pk}", limit=SYNCS_PER_MINUTE, window_seconds=60
            )
            if allowed:
                await self.send_missed_turns(payload.get("after"))
            return
        await self.receive_message(payload)

    async def receive_message(self, payload: dict[str, Any]) -> None:
        if not self.can_write:
            await self.send_notice("This session is read-only for you.")
            return
        action = str(payload.get("action") or "")
        text = tutoring.HELP_MESSAGES.get(action) or str(payload.get("message") or "").strip()
        client_id = str(payload.get("client_id") or "")[:64] or None
        if not text:
            await self.send_notice("Type a message first.")
            return
        if len(text) > MAX_MESSAGE_CHARS:
            await self.send_notice(f"That message is too long: keep it under {MAX_MESSAGE_CHARS} characters.")
            return
        # A solved problem still takes the answer to the tutor's reflection question; a stopped one takes nothing.
        if await current_status(self.session.pk) == TutoringSession.Status.ABANDONED:
            await self.send_notice("This session was stopped. Pick a problem from your dashboard.")
            return
        allowed = await database_sync_to_async(ratelimit.hit)(
            f"ws:{self.scope['user'].pk}", limit=MESSAGES_PER_MINUTE, window_seconds=60
        )
        if not allowed:
            await self.send_notice("You are sending messages very fast. Wait a moment, then try again.")
            return
        # The reply is declared owed before its turn is stored, so that a page opening meanwhile does not take the
        # turn for one whose reply was lost and answer it too.
        claim = await reply_locks.claim_reply(self.session.pk)
        try:
            # Stored (and committed) before the model is called: nothing a student typed is ever lost.
            turn, created = await store_student_turn(self.session, text, client_id)
        except BaseException:
            await claim.release()
            raise
        if not created:
            await claim.release()
            return  # a resend of a message we already have, and already answered or answering
        await self.channel_layer.group_send(self.group, {"type": "turn.stored", "turn_id": turn.pk})
        _start_reply(self.reply_to(turn, claim))

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

    async def reply_to(self, student_turn: Turn, claim: reply_locks.ReplyClaim) -> None:
        session_id = student_turn.session_id
        bubble = f"pending-{student_turn.seq}"
        layer, group = self.channel_layer, session_group(session_id)
        # The claim is given up once the reply is stored or has failed; the turn is this session's, in every process.
        async with claim, claim.turn():
            try:
                planned = await plan_reply(session_id, student_turn.text)
                await layer.group_send(group, {"type": "reply.start", "bubble": bubble})
                llm = tutor_llm()
                model_reply = await self.stream_model(llm, planned, bubble)
                delivery = deliver(model_reply, planned.plan, planned.context, previous=planned.previous)
                completed = await complete_reply(planned=planned, delivery=delivery, backend=llm.name)
            except Exception:
                logger.exception("reply to turn %s of session %s failed", student_turn.seq, session_id)
                await layer.group_send(group, {"type": "reply.failed", "bubble": bubble})
                return
            await layer.group_send(group, {"type": "reply.final", "bubble": bubble, "turn_id": completed.turn.pk})

    async def stream_model(self, llm: Any, planned: tutoring.PlannedTurn, bubble: str) -> str | None:
        """The model's whole reply, streamed to the page as it comes; None when the model failed, is off, or broke
        the plan mid-reply.

        Only text the guard has already passed reaches the page, and only text it can never take back: the reply
        goes out a sentence or clause at a time (up to punctuation and a space), each piece once the partial check
        passes everything up to it, so a number still being written ("three" of "three half-hours") is never judged
        alone, and what the page shows only ever grows into the stored reply. At the first text the plan forbids,
        streaming stops and the turn falls back to the template; the student never sees that text.
        """
        if llm.name == "none":
            return None
        layer, group = self.channel_layer, session_group(planned.session_id)
        plan, context = planned.plan, planned.context
        pieces: list[str] = []
        passed = ""  # the longest releasable prefix the guard has passed
        shown = ""  # what the page shows: always a prefix of ``passed``, stripped
        sent_at: float | None = None
        try:
            stream = llm.stream(planned.messages, max_new_tokens=MAX_NEW_TOKENS, temperature=0.7)
            # aclosing: leaving early (a withdrawn reply) stops the generation at once, not at garbage collection.
            async with asyncio.timeout(REPLY_TIMEOUT_SECONDS), contextlib.aclosing(stream):
                async for piece in stream:
                    pieces.append(piece)
                    text = "".join(pieces)
                    # Everything settled so far, released or not: a reply that already broke the plan stops now.
                    verdict = check_reply(text, plan, context, partial=True)
                    ready = releasable_prefix(text)
                    if verdict.ok and len(ready) > len(passed):
                        verdict = check_reply(ready, plan, context, partial=True)
                        passed = ready if verdict.ok else passed
                    if not verdict.ok:
                        logger.info("model reply withdrawn mid-stream: %s", "; ".join(verdict.reasons))
                        return None
                    if len(passed.strip()) > len(shown) and flush_due(time.monotonic(), sent_at):
                        shown, sent_at = passed.strip(), time.monotonic()
                        await layer.group_send(group, {"type": "reply.token", "bubble": bubble, "text": shown})
        except (TutorLLMError, TimeoutError) as exc:
            logger.warning("tutor model failed, using the template: %s", exc)
            return None
        return "".join(pieces).strip() or None

    # -- to the browser (group events) ---------------------------------------------------------------------

    async def still_allowed(self) -> bool:
        """Access is checked again before each stored turn is sent: a student removed from the class, or a teacher
        deactivated, stops receiving the transcript on sockets opened before."""
        session = await load_session(self.session.pk)
        user = await load_user(self.scope["user"].pk)  # fresh: the connect-time copy does not see deactivation
        if session is None or user is None or not (await check_access(user, session))[0]:
            await self.close(code=CLOSE_FORBIDDEN)
            return False
        return True

    async def turn_stored(self, event: dict[str, Any]) -> None:
        if await self.still_allowed():
            await self.send(text_data=await self.render_turns(turn_ids=[event["turn_id"]]))

    async def reply_start(self, event: dict[str, Any]) -> None:
        await self.send(text_data=render_to_string("sessions/_pending.html", {"bubble": event["bubble"]}))

    async def reply_token(self, event: dict[str, Any]) -> None:
        await self.send(text_data=render_to_string("sessions/_token.html", event))

    async def reply_failed(self, event: dict[str, Any]) -> None:
        await self.send(text_data=render_to_string("sessions/_failed.html", {"bubble": event["bubble"]}))

    async def reply_final(self, event: dict[str, Any]) -> None:
        if not await self.still_allowed():
            return
        html = await database_sync_to_async(self._render_final)(event["turn_id"], event["bubble"])
        await self.send(text_data=html)

    def _render_final(self, turn_id: int, bubble: str) -> str:
        session = TutoringSession.objects.select_related("problem", "student", "assignment").get(pk=self.session.pk)
        turn = Turn.objects.select_related("session").get(pk=turn_id)
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

    async def render_turns(self, *, turn_ids: list[int] | None = None, after: int | None = None) -> str:
        def render() -> str:
            turns = Turn.objects.select_related("session").filter(session_id=self.session.pk)
            turns = turns.filter(pk__in=turn_ids) if turn_ids is not None else turns.filter(seq__gt=after or 0)
            return render_to_string(
                "sessions/_turns_oob.html",
                {"turns": turns.order_by("seq"), "user": self.scope["user"], "can_correct": self.can_correct},
            )

        html: str = await database_sync_to_async(render)()
        return html

    async def send_missed_turns(self, after: Any) -> None:
        try:
            after_seq = max(0, int(after))
        except (TypeError, ValueError):
            after_seq = 0
        html = await self.render_turns(after=after_seq)
        if "data-seq" in html:
            await self.send(text_data=html)

    async def send_notice(self, text: str) -> None:
        await self.send(text_data=render_to_string("sessions/_notice.html", {"notice": text}))
