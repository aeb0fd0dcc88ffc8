import pytest

from hurricane_assets.identity import ModifiedPayloadError, Signer, WrongKeyError
from negotiation_graph.ports import SignerPort


def test_signer_implements_port_and_round_trips():
    signer = Signer()
    assert isinstance(signer, SignerPort)
    block = signer.sign("customers", b"terms-sha256")
    signer.verify(b"terms-sha256", block)


def test_signer_rejects_other_message_and_other_signer():
    signer = Signer()
    block = signer.sign("customers", b"terms-sha256")
    signer.sign("risk", b"x")
    with pytest.raises(ModifiedPayloadError):
        signer.verify(b"terms-sha257", block)
    with pytest.raises(WrongKeyError):
        signer.verify(b"terms-sha256", block.model_copy(update={"signer": "risk"}))
