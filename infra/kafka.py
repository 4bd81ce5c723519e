"""Kafka plumbing with kafka-python: topic creation, readiness, and a blocking publisher."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any

from kafka import KafkaAdminClient, KafkaProducer
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from infra.settings import Settings
from models import topics

log = logging.getLogger(__name__)


def client_options(settings: Settings) -> dict[str, Any]:
    """kafka-python keyword arguments for the configured security (TLS, SASL)."""
    options: dict[str, Any] = {"security_protocol": settings.kafka_security_protocol}
    if settings.kafka_ssl_cafile is not None:
        options["ssl_cafile"] = str(settings.kafka_ssl_cafile)
    if settings.kafka_sasl_mechanism is not None:
        options["sasl_mechanism"] = settings.kafka_sasl_mechanism
        options["sasl_plain_username"] = settings.kafka_sasl_username
        password = settings.kafka_sasl_password
        options["sasl_plain_password"] = password.get_secret_value() if password else None
    return options


def wait_for_broker(
    bootstrap: str, timeout: float = 60.0, options: dict[str, Any] | None = None
) -> None:
    """Block until the broker answers metadata requests, or raise TimeoutError."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=bootstrap, request_timeout_ms=5000, **(options or {})
            )
            try:
                admin.list_topics()
                return
            finally:
                admin.close()
        except (KafkaError, OSError) as exc:
            last = exc
            time.sleep(0.25)
    raise TimeoutError(f"Kafka at {bootstrap} did not answer within {timeout:.0f}s: {last!r}")


def ensure_topics(
    bootstrap: str,
    partitions: int,
    names: Iterable[str] = topics.ALL,
    options: dict[str, Any] | None = None,
    replication: int = 1,
    min_insync: int | None = None,
) -> list[str]:
    """Create the contract's topics that do not exist yet; returns the ones created.

    Must run before any producer or agent: a broker that auto-creates topics picks its own
    partition count, and faust tables then fail on the mismatch. On a cluster each topic
    has `replication` copies and refuses an `acks=all` write held by fewer than `min_insync`.
    """
    configs = {"min.insync.replicas": str(min_insync)} if min_insync else {}
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap, request_timeout_ms=30000, **(options or {})
    )
    try:
        existing = set(admin.list_topics())
        wanted = [n for n in names if n not in existing]
        created: list[str] = []
        for name in wanted:
            try:
                admin.create_topics(
                    [
                        NewTopic(
                            name,
                            num_partitions=partitions,
                            replication_factor=replication,
                            topic_configs=configs,
                        )
                    ]
                )
                created.append(name)
            except TopicAlreadyExistsError:
                pass
        return created
    finally:
        admin.close()


class KafkaPublisher:
    """Thread-safe; `publish` returns only after the broker acknowledged the write."""

    def __init__(
        self, bootstrap: str, timeout: float = 15.0, options: dict[str, Any] | None = None
    ) -> None:
        self._timeout = timeout
        self._producer = KafkaProducer(
            bootstrap_servers=bootstrap, acks="all", linger_ms=2, **(options or {})
        )

    @classmethod
    def for_settings(cls, settings: Settings) -> KafkaPublisher:
        return cls(settings.kafka_bootstrap, options=client_options(settings))

    def publish(self, topic: str, key: str, value: bytes) -> None:
        self.publish_all(topic, [(key, value)])

    def publish_all(self, topic: str, messages: list[tuple[str, bytes]]) -> None:
        self.placed(topic, messages)

    def placed(self, topic: str, messages: list[tuple[str, bytes]]) -> list[tuple[int, int]]:
        """Publish; each message's (partition, offset), once the broker acknowledged it."""
        futures = [self._producer.send(topic, key=k.encode("utf-8"), value=v) for k, v in messages]
        metadata = [future.get(timeout=self._timeout) for future in futures]
        return [(meta.partition, meta.offset) for meta in metadata]

    def close(self) -> None:
        self._producer.close(timeout=5)
