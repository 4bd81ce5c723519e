"""Every Temporal payload encrypted (Temporal's documented payload codec pattern).

Defence in depth behind the vault: whatever a workflow's input, signal, update, query, result
or activity carries is AES-256-GCM ciphertext in Temporal's store, its UI and `temporal
workflow show`. The key is derived from the vault's key (infra/vault.py), named by its key id
in each payload's metadata, so rotation keeps old histories readable while the old key is
listed in `TUOYU_VAULT_PREVIOUS_KEYS`. Payloads without `encoding: binary/encrypted` (histories
recorded before the codec) pass through as they are.

Search attributes and memos are not payloads the codec sees: they never carry personal data.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import DecodeError
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import (
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    PayloadCodec,
)

from infra.vault import Vault, derive

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
PURPOSE = "tuoyu temporal payload codec"


class CodecError(ValueError):
    """A payload that does not decrypt: unknown key id or altered."""


class EncryptionCodec(PayloadCodec):
    def __init__(self, vault: Vault) -> None:
        self._kid = vault.kid
        self._keys = {kid: AESGCM(derive(key, PURPOSE)) for kid, key in vault.keys.items()}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(p) for p in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(p) for p in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        nonce = os.urandom(12)
        data = self._keys[self._kid].encrypt(nonce, payload.SerializeToString(), None)
        return Payload(
            metadata={"encoding": ENCODING, KEY_ID: self._kid.encode()}, data=nonce + data
        )

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        kid = payload.metadata.get(KEY_ID, b"").decode(errors="replace")
        key = self._keys.get(kid)
        if key is None:
            raise CodecError(f"unknown payload key id {kid[:32]!r}")
        try:
            return Payload.FromString(key.decrypt(payload.data[:12], payload.data[12:], None))
        except (InvalidTag, DecodeError) as exc:
            raise CodecError("payload does not decrypt") from exc


def data_converter(vault: Vault) -> DataConverter:
    """The pydantic data converter of every tuoyu process, with every payload encrypted;
    failure messages and stack traces are encoded too (they may quote an input)."""
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=EncryptionCodec(vault),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )
