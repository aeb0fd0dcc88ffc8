from __future__ import annotations

from hurricane_assets.masking.operators.names import FakeName


def test_same_person_same_fake_everywhere_and_parts_kept(key):
    op = FakeName()
    fake = op.operate("Zoë  Ångström", {"key": key})
    assert fake == op.operate("zoë ångström", {"key": key}) and len(fake.split()) == 2
    assert fake != op.operate("Zoe Angstrom", {"key": key})
    assert "Zoë" not in fake and all(part[0].isupper() for part in fake.split())
    assert len(op.operate("Jan van der Berg", {"key": key}).split()) == 3


def test_fakes_spread_over_many_names(key):
    fakes = {FakeName().operate(f"Person {i}", {"key": key}) for i in range(2000)}
    assert len(fakes) == 2000
