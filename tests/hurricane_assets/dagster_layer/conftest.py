from tests.hurricane_assets.models.conftest import (  # noqa: F401  shared real-data fixtures
    customers_share,
    install_world,
    payments_share,
    support_share,
    world_templates,
)
