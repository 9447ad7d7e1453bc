from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tutor.llm import tutor_llm

from .conftest import World


@pytest.fixture
def fresh_llm() -> Iterator[None]:
    tutor_llm.cache_clear()
    yield
    tutor_llm.cache_clear()


def test_the_admins_teacher_page_shows_the_tutor_model_in_use(world: World, settings: Any, fresh_llm: None) -> None:
    settings.TUTOR_LLM_BACKEND = "openai"
    settings.TUTOR_LLM_URL = "http://gpu-1:8000/v1"
    settings.TUTOR_LLM_MODEL = "socratic-tutor"
    client = Client()
    client.force_login(world.admin)

    page = client.get(reverse("admin_teachers")).content.decode()

    assert "Tutor model: openai (socratic-tutor)" in page


def test_the_page_still_works_when_the_model_settings_are_incomplete(
    world: World, settings: Any, fresh_llm: None
) -> None:
    settings.TUTOR_LLM_BACKEND = "openai"
    settings.TUTOR_LLM_URL = ""
    client = Client()
    client.force_login(world.admin)

    response = client.get(reverse("admin_teachers"))

    assert response.status_code == 200
    assert "Tutor model: unavailable (the openai backend needs TUTOR_LLM_URL)" in response.content.decode()
