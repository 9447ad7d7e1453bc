"""How pages name people: ``{{ someone|display_name }}`` everywhere a user is shown, so a student is the same name on
every page (the full name when there is one, else the username) and a missing author reads as "someone"."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter(name="display_name")
def display_name(user: Any, missing: str = "someone") -> str:
    """The user's display name; ``missing`` (e.g. ``|display_name:"a teacher"``) for a deleted or absent user."""
    name = getattr(user, "display_name", None)
    return str(name) if name else missing
