"""Formatting for the dashboard's figures: durations, rates and mastery as people read them."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter(name="duration")
def duration(value: object) -> str:
    """``95`` -> ``1 min 35 s``; ``3720`` -> ``1 h 2 min``; anything but a number (no figures yet) -> an em dash."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "—"
    seconds = int(value)
    if seconds < 60:
        return f"{seconds} s"
    minutes, secs = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


@register.filter(name="milliseconds")
def milliseconds(value: object) -> str:
    """``120`` -> ``120 ms``; nothing measured -> an em dash."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "—"
    return f"{round(value)} ms"


@register.filter(name="rate")
def rate(value: object) -> str:
    """A share from 0 to 1 as a whole percentage; anything else (nothing to divide, no figures) as an em dash."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "—"
    return f"{round(value * 100)}%"
