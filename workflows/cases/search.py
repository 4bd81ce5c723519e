"""Custom search attributes of case workflows, so that a person finds a case in the Temporal
UI by number, category, town, handling unit, status, priority or due time. Never personal
data: search attributes are stored unencrypted. The dev server registers them at start
(infra/servers.py); an external cluster needs them registered once
(`temporal operator search-attribute create`, see docs/operations.md)."""

from __future__ import annotations

from datetime import datetime

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import SearchAttributeKey, SearchAttributeUpdate
from temporalio.service import RPCError

from models.search_attributes import CASE_SEARCH_ATTRIBUTES

CASE_ID = SearchAttributeKey.for_keyword("TuoyuCaseId")
CATEGORY = SearchAttributeKey.for_keyword("TuoyuCategory")
TOWN = SearchAttributeKey.for_keyword("TuoyuTown")
HANDLER = SearchAttributeKey.for_keyword("TuoyuHandler")
STATUS = SearchAttributeKey.for_keyword("TuoyuStatus")
PRIORITY = SearchAttributeKey.for_keyword("TuoyuPriority")
DUE_AT = SearchAttributeKey.for_datetime("TuoyuDueAt")

KEYWORDS = (CASE_ID, CATEGORY, TOWN, HANDLER, STATUS, PRIORITY)
assert {k.name for k in (*KEYWORDS, DUE_AT)} == set(CASE_SEARCH_ATTRIBUTES)

Values = dict[str, str | datetime | None]


def updates(values: Values, before: Values) -> list[SearchAttributeUpdate]:
    """The changed attributes only: each upsert is an event in the history."""
    changed: list[SearchAttributeUpdate] = []
    for key in (*KEYWORDS, DUE_AT):
        value = values.get(key.name)
        if value == before.get(key.name) and key.name in before:
            continue
        if value is None:
            changed.append(key.value_unset())
        else:
            changed.append(key.value_set(value))  # type: ignore[arg-type]
    return changed


async def register(client: Client, namespace: str) -> None:
    """Register the attributes on a server that does not take them on its command line (the
    time-skipping test server, or a cluster on first start); existing ones are left alone."""
    kinds = {k.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD for k in KEYWORDS}
    kinds[DUE_AT.name] = IndexedValueType.INDEXED_VALUE_TYPE_DATETIME
    try:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=kinds)
        )
    except RPCError as err:
        # Already there (a restart, or registered by the cluster's operators): fine. Missing
        # and not ours to register: the worker stops with the reason.
        listed = await client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=namespace)
        )
        if not set(kinds) <= set(listed.custom_attributes):
            raise RuntimeError(
                "cannot register the case search attributes "
                f"({', '.join(CASE_SEARCH_ATTRIBUTES)}): {err.message}; register them with "
                "`temporal operator search-attribute create` and restart"
            ) from err
