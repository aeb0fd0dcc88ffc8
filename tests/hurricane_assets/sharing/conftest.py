from tests.hurricane_assets.models.conftest import (  # noqa: F401  shared real-data fixtures
    install_world,
    world_templates,
)
