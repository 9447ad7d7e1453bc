"""The tutoring session's websocket.

Close codes: 4401 not signed in, 4403 not allowed (also used for sessions that do not exist, so ids reveal nothing),
4400 a message the server cannot accept, 4429 too many messages.
"""

from __future__ import annotations

import json
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.template.loader import render_to_string

from . import permissions, ratelimit, services
from .models import Turn, TutoringSession

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_BAD_MESSAGE = 4400

# Documented in docs/operations.md. A student's message is a sentence or two of math; 2,000 characters is generous.
MAX_MESSAGE_CHARS = getattr(settings, "TUTOR_MAX_MESSAGE_CHARS", 2000)
MAX_FRAME_BYTES = 16_384
MESSAGES_PER_MINUTE = getattr(settings, "TUTOR_MESSAGES_PER_MINUTE", 20)


def session_group(session_id: int) -> str:
    return f"session-{session_id}"


@database_sync_to_async
def load_session(session_id: int) -> TutoringSession | None:
    return TutoringSession.objects.select_related("student").filter(pk=session_id).first()


@database_sync_to_async
def check_access(user: Any, session: TutoringSession) -> tuple[bool, bool]:
    return permissions.can_view_session(user, session), permissions.can_work_in_session(user, session)


@database_sync_to_async
def store_student_turn(session: TutoringSession, text: str, client_id: str | None) -> tuple[Turn, bool]:
    return services.turn_append(session=session, role=Turn.Role.STUDENT, text=text, client_message_id=client_id)


class SessionConsumer(AsyncWebsocketConsumer):
    session: TutoringSession
    can_write: bool

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        session = await load_session(int(self.scope["url_route"]["kwargs"]["session_id"]))
        if session is None:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        can_view, can_write = await check_access(user, session)
        if not can_view:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.session, self.can_write = session, can_write
        self.group = session_group(session.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if not self.can_write:
            await self.send_notice("This session is read-only for you.")
            return
        if text_data is None or len(text_data.encode()) > MAX_FRAME_BYTES:
            await self.close(code=CLOSE_BAD_MESSAGE)
            return
        try:
            payload = json.loads(text_data)
        except json.JSONDecodeError:
            await self.close(code=CLOSE_BAD_MESSAGE)
            return
        text = str(payload.get("message", "")).strip() if isinstance(payload, dict) else ""
        client_id = str(payload.get("client_id") or "")[:64] or None if isinstance(payload, dict) else None
        if not text:
            await self.send_notice("Type a message first.")
            return
        if len(text) > MAX_MESSAGE_CHARS:
            await self.send_notice(f"That message is too long: keep it under {MAX_MESSAGE_CHARS} characters.")
            return
        allowed = await database_sync_to_async(ratelimit.hit)(
            f"ws:{self.scope['user'].pk}", limit=MESSAGES_PER_MINUTE, window_seconds=60
        )
        if not allowed:
            await self.send_notice("You are sending messages very fast. Wait a moment, then try again.")
            return
        turn, created = await store_student_turn(self.session, text, client_id)
        if created:
            await self.channel_layer.group_send(self.group, {"type": "turn.stored", "turn_id": turn.pk})

    async def turn_stored(self, event: dict[str, Any]) -> None:
        html = await database_sync_to_async(self._render_turn)(event["turn_id"])
        await self.send(text_data=html)

    def _render_turn(self, turn_id: int) -> str:
        turn = Turn.objects.get(pk=turn_id)
        return render_to_string("sessions/_turn_oob.html", {"turn": turn})

    async def send_notice(self, text: str) -> None:
        await self.send(text_data=render_to_string("sessions/_notice.html", {"notice": text}))
