"""Recorded histories are kept in clear: the test session's vault key is its own, so a
history is decrypted with it before it is written to `data/histories/`."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from temporalio.api.common.v1 import Payload
from temporalio.client import WorkflowHistory

from infra.codec import ENCODING, EncryptionCodec

HISTORIES = Path(__file__).parent / "data" / "histories"
_ENCRYPTED = base64.b64encode(ENCODING).decode()


def _clear(node: Any, codec: EncryptionCodec) -> Any:
    if isinstance(node, dict):
        if node.get("metadata", {}).get("encoding") == _ENCRYPTED:
            payload = Payload(
                metadata={k: base64.b64decode(v) for k, v in node["metadata"].items()},
                data=base64.b64decode(node.get("data", "")),
            )
            clear = codec.decrypt(payload)
            return {
                "metadata": {k: base64.b64encode(v).decode() for k, v in clear.metadata.items()},
                "data": base64.b64encode(clear.data).decode(),
            }
        return {k: _clear(v, codec) for k, v in node.items()}
    if isinstance(node, list):
        return [_clear(v, codec) for v in node]
    return node


def write_in_clear(history: WorkflowHistory, codec: EncryptionCodec, name: str) -> None:
    text = json.dumps(_clear(json.loads(history.to_json()), codec), indent=2, ensure_ascii=False)
    (HISTORIES / name).write_text(text + "\n")
