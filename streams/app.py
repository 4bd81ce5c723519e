"""The faust app. Broker and store come from settings; nothing here touches the event loop."""

from __future__ import annotations

import ssl

import faust

from infra.settings import Settings, get_settings
from streams.transport import App


def broker_credentials(settings: Settings) -> faust.types.auth.CredentialsT | None:
    """TLS and/or SASL for an external Kafka, as configured (None: PLAINTEXT)."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    context = None
    if protocol in ("SSL", "SASL_SSL"):
        context = ssl.create_default_context(
            cafile=str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None
        )
    if protocol == "SSL":
        return faust.SSLCredentials(context)
    password = settings.kafka_sasl_password
    return faust.SASLCredentials(
        username=settings.kafka_sasl_username,
        password=password.get_secret_value() if password else None,
        mechanism=settings.kafka_sasl_mechanism or "PLAIN",
        ssl_context=context,
    )


settings = get_settings()

app = App(
    settings.stream_app_id,
    # faust takes several brokers as URLs separated by `;`.
    broker=";".join(f"kafka://{b.strip()}" for b in settings.kafka_bootstrap.split(",")),
    store="memory://",
    datadir=str(settings.data_dir / "streams"),
    topic_replication_factor=settings.topic_replication,
    topic_partitions=settings.topic_partitions,
    # Topics are created by `tuoyu up` before any worker starts, with the contract's counts.
    topic_allow_declare=False,
    consumer_auto_offset_reset="earliest",
    web_enabled=False,
    # One worker per group here: a short rebalance timeout keeps a join from waiting for
    # members that will never come (Tansu waits out the whole timeout on the first join).
    broker_rebalance_timeout=settings.stream_rebalance_timeout,
    broker_session_timeout=max(settings.stream_rebalance_timeout, 10.0),
    broker_heartbeat_interval=1.0,
    autodiscover=False,
    broker_credentials=broker_credentials(settings),
)
