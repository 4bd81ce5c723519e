"""A value sealed by the vault (envelope encryption), as it travels and is stored.

Each sealed value has its own data key (AES-256-GCM), wrapped by the key-encryption key
named by `kid`; the ciphertext is bound to its purpose (associated data such as
`complainant-contact:<event id>`), so it cannot be moved to another record. Everything is
base64; the clear value exists only at the edge that sealed it and for the viewer who may
open it.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

_B64 = r"^[A-Za-z0-9+/]*={0,2}$"


class Sealed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    kid: str = Field(
        min_length=1, max_length=32, pattern=r"^[0-9a-f]+$", description="key-encryption key id"
    )
    wrapped_key: str = Field(
        min_length=1, max_length=128, pattern=_B64, description="the data key, wrapped (base64)"
    )
    nonce: str = Field(min_length=1, max_length=32, pattern=_B64, description="base64")
    ciphertext: str = Field(
        min_length=1, max_length=16384, pattern=_B64, description="AES-GCM output (base64)"
    )
