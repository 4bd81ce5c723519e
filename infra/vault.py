"""The vault: envelope encryption of personal data at the edge where it enters.

A key-encryption key (KEK, 32 bytes) comes from `TUOYU_VAULT_KEY` (base64), or is made once in
the data dir (`secrets/vault.key`, mode 0600) and shared by every process of the stack. Each
sealed value gets its own data key (AES-256-GCM, derived from the record it is sealed for and
the value: see `Vault.seal`); the data key is wrapped by the KEK, whose id
(`kid`, a hash of the key, never the key) travels with it, so keys can be rotated: keys listed
in `TUOYU_VAULT_PREVIOUS_KEYS` still open what they sealed, and `rewrap` moves a sealed value
to the current key without touching its ciphertext. The ciphertext is bound to its purpose
(associated data), so a contact sealed for one complaint does not open as another's.

The Temporal payload codec (infra/codec.py) uses a key derived from the same KEK (HKDF), so
one key is backed up and rotated for both.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import ValidationError

from infra.settings import Settings
from models.complaints import Complainant, ComplaintReceived
from models.sealed import Sealed

CONTACT = "complainant-contact"
IDENTITY = "identity-number"
KEY_BYTES = 32


class VaultError(ValueError):
    """A sealed value that cannot be opened: unknown key, tampered, or moved to another record."""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def key_id(kek: bytes) -> str:
    return hashlib.sha256(b"tuoyu-vault-kid:" + kek).hexdigest()[:16]


def derive(kek: bytes, purpose: str) -> bytes:
    """A subkey of the KEK for another use (the payload codec), so the KEK itself wraps only
    data keys."""
    return HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose.encode()
    ).derive(kek)


class Vault:
    def __init__(self, current: bytes, previous: list[bytes] | None = None) -> None:
        for key in [current, *(previous or [])]:
            if len(key) != KEY_BYTES:
                raise ValueError("a vault key is 32 bytes (base64 in TUOYU_VAULT_KEY)")
        self.kid = key_id(current)
        self.keys = {key_id(k): k for k in [*(previous or []), current]}
        self._siv_key = derive(current, "tuoyu vault synthetic iv")

    def seal(self, clear: bytes, purpose: str) -> Sealed:
        """Sealed for `purpose` (which names the record, e.g. its event id). The data key and
        nonces are derived from the purpose and the value (a synthetic IV), so the same value
        sealed again for the same record gives the same bytes: a retried or replayed event
        stays identical on the topic and in its workflow's input, and nothing links two
        records (their purposes differ)."""
        siv = hmac.new(self._siv_key, purpose.encode() + b"\0" + clear, hashlib.sha256).digest()
        data_key = hmac.new(siv, b"data-key", hashlib.sha256).digest()
        nonce = hmac.new(siv, b"nonce", hashlib.sha256).digest()[:12]
        wrap_nonce = hmac.new(siv, b"wrap-nonce", hashlib.sha256).digest()[:12]
        ciphertext = AESGCM(data_key).encrypt(nonce, clear, purpose.encode())
        return Sealed(
            kid=self.kid,
            wrapped_key=b64(self._wrap(self.kid, data_key, wrap_nonce)),
            nonce=b64(nonce),
            ciphertext=b64(ciphertext),
        )

    def open(self, sealed: Sealed, purpose: str) -> bytes:
        try:
            data_key = self._unwrap(sealed)
            return AESGCM(data_key).decrypt(
                unb64(sealed.nonce), unb64(sealed.ciphertext), purpose.encode()
            )
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise VaultError(f"sealed value does not open for {purpose.split(':')[0]}") from exc

    def rewrap(self, sealed: Sealed) -> Sealed:
        """The same ciphertext with its data key wrapped by the current KEK (key rotation)."""
        if sealed.kid == self.kid:
            return sealed
        try:
            data_key = self._unwrap(sealed)
        except (InvalidTag, binascii.Error, ValueError) as exc:
            raise VaultError("sealed value does not open") from exc
        return sealed.model_copy(
            update={"kid": self.kid, "wrapped_key": b64(self._wrap(self.kid, data_key))}
        )

    def _wrap(self, kid: str, data_key: bytes, nonce: bytes | None = None) -> bytes:
        nonce = nonce or os.urandom(12)
        return nonce + AESGCM(self.keys[kid]).encrypt(nonce, data_key, f"dek:{kid}".encode())

    def _unwrap(self, sealed: Sealed) -> bytes:
        kek = self.keys.get(sealed.kid)
        if kek is None:
            raise VaultError(f"unknown vault key id {sealed.kid}")
        wrapped = unb64(sealed.wrapped_key)
        return AESGCM(kek).decrypt(wrapped[:12], wrapped[12:], f"dek:{sealed.kid}".encode())

    # -- the caller's contact ----------------------------------------------------------------

    def seal_contact(self, contact: Complainant, event_id: str) -> Sealed:
        return self.seal(contact.model_dump_json().encode(), f"{CONTACT}:{event_id}")

    def open_contact(self, sealed: Sealed, event_id: str) -> Complainant:
        clear = self.open(sealed, f"{CONTACT}:{event_id}")
        try:
            return Complainant.model_validate_json(clear)
        except ValidationError as exc:
            # Sealed under the rules of its day (names took invisible characters, a phone
            # "---"): the seal authenticates it, so it is shown as recorded, not lost.
            try:
                data = json.loads(clear)
            except ValueError:
                raise VaultError("sealed contact is not a contact") from exc
            if (
                isinstance(data, dict)
                and set(data) <= {"name", "phone", "email"}
                and all(v is None or isinstance(v, str) for v in data.values())
            ):
                return Complainant.model_construct(**data)
            raise VaultError("sealed contact is not a contact") from exc

    def sealed_complaint(self, complaint: ComplaintReceived) -> ComplaintReceived:
        """The complaint with its caller's contact sealed (events of the old shape carry it in
        clear); anonymous complaints keep no contact at all."""
        if complaint.complainant is None:
            return complaint
        sealed = None
        if not complaint.anonymous and complaint.complainant_sealed is None:
            sealed = self.seal_contact(complaint.complainant, complaint.event_id)
        return complaint.model_copy(
            update={
                "complainant": None,
                "complainant_sealed": sealed or complaint.complainant_sealed,
            }
        )

    def redact_contact(self, raw: bytes) -> bytes:
        """A rejected complaint as it goes to the dead-letter topic: the rest of it intact,
        the caller's contact sealed (bound to the event id it came with, if any)."""
        try:
            event = json.loads(raw)
        except (ValueError, RecursionError):
            return raw  # not JSON (or nested past the parser's depth): no contact field
        if not isinstance(event, dict) or not event.get("complainant"):
            return raw
        given = event.get("event_id")
        event_id: str = given if isinstance(given, str) else ""
        if not event_id.isascii() and not _utf8(event_id):
            event_id = ""  # a lone surrogate (fuzzed): bound to no id, as when it has none
        try:
            contact = _json_bytes(event.pop("complainant"))
        except RecursionError:  # nested past any contact's shape: not kept at all
            contact = b"null"
        if len(contact) > MAX_CONTACT_BYTES:
            # Past what a sealed value may hold (a fuzzed 5,000-character "contact" was a 500):
            # not kept in clear, not sealed; its size says what was there.
            event["complainant_dropped"] = f"{len(contact)} bytes, over {MAX_CONTACT_BYTES}"
            contact = b"null"
        event["complainant_sealed"] = self.seal(contact, f"{CONTACT}:{event_id}").model_dump()
        return _json_bytes(event)


# A contact is a name, a phone and an e-mail (under 400 bytes as JSON); sealed, it must fit
# `Sealed.ciphertext` (16,384 base64 characters, about 12 KB).
MAX_CONTACT_BYTES = 8192


def _utf8(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _json_bytes(value: object) -> bytes:
    """JSON as UTF-8; a lone surrogate (a `\\ud800` escape in what a client sent) cannot be
    UTF-8, so such a value keeps its escapes."""
    try:
        return json.dumps(value, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return json.dumps(value).encode()


def key_file(settings: Settings) -> Path:
    return settings.data_dir / "secrets" / "vault.key"


def _decode(text: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except binascii.Error as exc:
        raise ValueError("a vault key is base64 of 32 bytes") from exc


def load_vault(settings: Settings) -> Vault:
    previous = [_decode(k.get_secret_value()) for k in settings.vault_previous_keys]
    if settings.vault_key is not None:
        return Vault(_decode(settings.vault_key.get_secret_value()), previous)
    path = key_file(settings)
    if not path.exists():
        # Written to a private temporary file, then linked into place: a process of the stack
        # that starts at the same moment sees either no key or the whole key, and one wins.
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".vault.key.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(b64(secrets.token_bytes(KEY_BYTES)) + "\n")
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    text = path.read_text()
    return Vault(_decode(text), previous)
