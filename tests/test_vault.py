"""The vault's envelope encryption and the payload codec, as pure logic (no servers)."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import pytest
from temporalio.api.common.v1 import Payload

from infra.codec import CodecError, EncryptionCodec
from infra.settings import Settings
from infra.vault import Vault, VaultError, load_vault
from models.complaints import Complainant
from tests.factories import complaint

CONTACT = Complainant(name="测试来电人", phone="139 0000 1234")


def test_a_sealed_contact_opens_only_for_its_own_event() -> None:
    vault = Vault(os.urandom(32))
    sealed = vault.seal_contact(CONTACT, "event-1")
    assert "139" not in sealed.model_dump_json()
    assert vault.open_contact(sealed, "event-1") == CONTACT
    with pytest.raises(VaultError):
        vault.open_contact(sealed, "event-2")  # moved to another record
    flipped = bytearray(base64.b64decode(sealed.ciphertext))
    flipped[0] ^= 1
    tampered = sealed.model_copy(update={"ciphertext": base64.b64encode(flipped).decode()})
    with pytest.raises(VaultError):
        vault.open_contact(tampered, "event-1")
    with pytest.raises(VaultError):
        Vault(os.urandom(32)).open_contact(sealed, "event-1")  # another key


def test_the_same_value_sealed_again_for_the_same_record_gives_the_same_bytes() -> None:
    """A client's retry (same event id) or a replayed old-shape event stays identical."""
    vault = Vault(os.urandom(32))
    first = vault.seal_contact(CONTACT, "event-1")
    assert vault.seal_contact(CONTACT, "event-1") == first
    other = vault.seal_contact(CONTACT, "event-2")
    assert other.ciphertext != first.ciphertext and other.wrapped_key != first.wrapped_key
    changed = CONTACT.model_copy(update={"phone": "139 0000 1235"})
    assert vault.seal_contact(changed, "event-1").ciphertext != first.ciphertext
    assert Vault(os.urandom(32)).seal_contact(CONTACT, "event-1") != first


def test_rotation_keeps_old_values_open_and_rewrap_moves_them_to_the_new_key() -> None:
    old, new = os.urandom(32), os.urandom(32)
    sealed = Vault(old).seal_contact(CONTACT, "e")
    rotated = Vault(new, [old])
    assert rotated.open_contact(sealed, "e") == CONTACT
    moved = rotated.rewrap(sealed)
    assert moved.kid == rotated.kid != sealed.kid and moved.ciphertext == sealed.ciphertext
    assert Vault(new).open_contact(moved, "e") == CONTACT  # the old key may now go


def test_an_old_shape_complaint_is_sealed_and_an_anonymous_one_keeps_nothing() -> None:
    vault = Vault(os.urandom(32))
    event = complaint(complainant=CONTACT.model_dump())
    sealed = vault.sealed_complaint(event)
    assert sealed.complainant is None and sealed.complainant_sealed is not None
    assert vault.open_contact(sealed.complainant_sealed, event.event_id) == CONTACT
    assert vault.sealed_complaint(sealed) == sealed  # sealing twice changes nothing
    anonymous = vault.sealed_complaint(complaint(anonymous=True, complainant=CONTACT.model_dump()))
    assert anonymous.complainant is None and anonymous.complainant_sealed is None


def test_a_rejected_complaint_is_dead_lettered_with_its_contact_sealed() -> None:
    vault = Vault(os.urandom(32))
    raw = complaint(complainant=CONTACT.model_dump()).model_dump_json().encode()
    kept = vault.redact_contact(raw)
    assert b"139 0000 1234" not in kept and "测试来电人".encode() not in kept
    assert vault.redact_contact(b"\xff not json 139") == b"\xff not json 139"


def test_a_rejected_complaint_whose_event_id_is_not_utf8_keeps_its_bytes_sealed() -> None:
    """Found by the stream fuzz test: an `event_id` with a lone surrogate made sealing fail,
    and the dead letter kept no bytes at all."""
    vault = Vault(os.urandom(32))
    raw = b'{"event_id": "\\ud800x", "complainant": {"phone": "139 0000 1234"}, "d": 1}'
    kept = vault.redact_contact(raw)
    assert b"139 0000 1234" not in kept
    assert json.loads(kept)["d"] == 1 and "complainant_sealed" in json.loads(kept)


def test_the_key_file_is_made_once_private_and_shared(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    first, second = load_vault(settings), load_vault(settings)
    assert first.kid == second.kid
    assert (tmp_path / "secrets" / "vault.key").stat().st_mode & 0o777 == 0o600


async def test_the_codec_encrypts_every_payload_and_passes_old_ones_through() -> None:
    key = os.urandom(32)
    codec = EncryptionCodec(Vault(key))
    clear = Payload(metadata={"encoding": b"json/plain"}, data=b'{"phone":"139 0000 1234"}')
    [sealed] = await codec.encode([clear])
    assert sealed.metadata["encoding"] == b"binary/encrypted" and b"139" not in sealed.data
    assert await codec.decode([sealed]) == [clear]
    assert await codec.decode([clear]) == [clear]  # recorded before the codec
    assert await EncryptionCodec(Vault(os.urandom(32), [key])).decode([sealed]) == [clear]
    with pytest.raises(CodecError):
        await EncryptionCodec(Vault(os.urandom(32))).decode([sealed])


def test_a_rejected_body_with_a_huge_contact_is_dead_lettered_without_it() -> None:
    """The API fuzzer's find: a 5,001-character string as the contact could not be sealed
    (past `Sealed.ciphertext`), and the refusal became a 500."""
    vault = Vault(os.urandom(32))
    raw = json.dumps({"event_id": "e-1", "complainant": "长" * 5001}).encode()
    letter = json.loads(vault.redact_contact(raw))
    assert "长" not in json.dumps(letter, ensure_ascii=False)
    assert letter["complainant_dropped"].endswith("over 8192")
    assert letter["complainant_sealed"]["ciphertext"]
