import pytest

from tests.integration.conftest import World, build_world


@pytest.fixture
def world_tx(transactional_db: None) -> World:
    return build_world()
