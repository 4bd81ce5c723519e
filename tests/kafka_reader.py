"""Reading a topic in tests: assign() all partitions, no consumer group (joining one is slow)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from kafka import KafkaConsumer, TopicPartition


class TopicReader:
    def __init__(self, bootstrap: str, topic: str) -> None:
        self.topic = topic
        self.consumer = KafkaConsumer(
            bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None
        )
        partitions = self.consumer.partitions_for_topic(topic) or set()
        self.consumer.assign([TopicPartition(topic, p) for p in sorted(partitions)])
        self.consumer.seek_to_beginning()
        self.records: list[Any] = []

    def poll(self) -> None:
        for batch in self.consumer.poll(timeout_ms=200).values():
            self.records.extend(batch)

    async def wait_for(
        self, match: Callable[[Any], bool], count: int = 1, within: float = 120
    ) -> list[Any]:
        """Records matching `match` once `count` arrived, or what came within `within` s."""
        deadline = time.monotonic() + within
        while True:
            await asyncio.to_thread(self.poll)
            found = [r for r in self.records if match(r)]
            if len(found) >= count or time.monotonic() > deadline:
                return found

    def close(self) -> None:
        self.consumer.close()
