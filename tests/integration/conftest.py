import pytest

from orchestration.settings import Settings


@pytest.fixture(scope="module")
def small_store(tmp_path_factory):
    """A small demo store (scale 0.02, 90 days) in a fresh home, generated once per module."""
    from orchestration.demo import generate_store

    home = tmp_path_factory.mktemp("home")
    generate_store(home, scale=0.02, days=90, seed=11)
    return Settings(home=home, landing=home / "landing")
