"""The one place configuration is read: `TUOYU_` environment variables and `.env`."""

from __future__ import annotations

from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

BrokerKind = Literal["tansu", "kafka", "external"]
KafkaSecurity = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TUOYU_", env_file=".env", extra="ignore")

    data_dir: Path = Path("./.tuoyu")
    # Apache Kafka keeps what was acknowledged across crashes; `tansu` is memory-only (tests).
    broker: BrokerKind = "kafka"
    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_controller_port: int | None = None  # Apache Kafka's KRaft port; default bootstrap + 1
    kafka_jars_dir: Path | None = None  # default: DATA_DIR/kafka-jars
    # An external Kafka with TLS and/or SASL (the embedded brokers use PLAINTEXT).
    kafka_security_protocol: KafkaSecurity = "PLAINTEXT"
    kafka_ssl_cafile: Path | None = None
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = None
    temporal_address: str = "127.0.0.1:7233"
    # An external Temporal with TLS (server CA; client certificate for mTLS) or an API key.
    temporal_tls_ca: Path | None = None
    temporal_tls_cert: Path | None = None
    temporal_tls_key: Path | None = None
    temporal_api_key: SecretStr | None = None
    temporal_namespace: str = "default"
    temporal_task_queue: str = "tuoyu-cases"
    temporal_workers: int = Field(default=1, ge=1, le=8)  # Temporal worker processes
    # Per worker process: workflow tasks and local activities taken at once. More than the
    # activity threads can serve only queues work inside the worker, where a deep backlog
    # outlasts the workflow task timeout; left on the server it waits at no cost.
    temporal_max_workflow_tasks: int = Field(default=16, ge=2)
    temporal_activity_threads: int = Field(default=8, ge=1)
    # Our workflow packages and models are imported once per worker, not per workflow run
    # (workers/temporal_worker.py); false restores the default sandbox's per-run import.
    temporal_sandbox_passthrough: bool = True
    temporal_embedded: bool = True  # false: TUOYU_TEMPORAL_ADDRESS is an existing cluster
    # The Temporal server built from its Go module (`make temporal-server`; default
    # DATA_DIR/bin): the cluster topology's server on PostgreSQL (infra/temporal_server.py).
    temporal_server_bin_dir: Path | None = None
    temporal_ui_port: int | None = None  # default: Temporal's own (frontend port + 1000)
    database_url: str | None = None
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    http_max_body_bytes: int = Field(default=256 * 1024, ge=1024)
    # Photos and documents on a case (JPEG, PNG, PDF): one file at most this large.
    attachment_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    # Web sign-in: a session lasts this long from sign-in (a working day by default); the
    # cookie is marked Secure when the pages are served over HTTPS (behind a proxy).
    session_ttl_minutes: int = Field(default=480, ge=1, le=7 * 24 * 60)
    session_cookie_secure: bool = False
    # Sign-in attempt limit: this many wrong passwords for one user name within the window,
    # and that name is refused until the oldest of them leaves the window.
    signin_max_failures: int = Field(default=5, ge=1, le=100)
    signin_failure_window_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # How often the inbox's event stream looks for new urgent cases (seconds).
    events_poll_seconds: float = Field(default=2.0, gt=0, le=60)
    sip_port: int = 5060
    sip_host: str = "127.0.0.1"
    # The platform's own GB/T 28181 id (20 digits: 522601 is Kaili; 200 a platform).
    sip_platform_id: str = "52260100002000000001"
    sip_metrics_port: int = 9484
    # GB/T 28181 registration. The digest realm (the SIP domain: by default the first ten
    # digits of the platform id) is part of every device's HA1, so changing it re-keys all.
    sip_realm: str | None = None
    # Refuse MESSAGE/NOTIFY from devices that have not registered (403, dead-lettered).
    # False restores the open MESSAGE intake of earlier versions, for platforms that push
    # alarms without registering.
    sip_require_registration: bool = True
    sip_register_min_expires: int = Field(default=60, ge=1)  # shorter: 423 with Min-Expires
    sip_register_max_expires: int = Field(default=86400, ge=60)  # longer: granted this
    # After this many wrong passwords for one device from one host within the lockout
    # period, that host's REGISTERs for the device are refused unchecked (403) until it ends:
    # online guessing stays slow, and a stranger cannot lock out the device's own host.
    sip_auth_failures_max: int = Field(default=5, ge=1)
    sip_auth_lockout: float = Field(default=600.0, gt=0)
    # A digest nonce is accepted this long after the challenge that issued it (stale after).
    sip_nonce_ttl: float = Field(default=300.0, gt=0, le=3600)
    # How many keepalives (at the interval the registry gives the device) may be missed
    # before it counts as offline (the standard's 3); without an interval in the registry,
    # TUOYU_KEEPALIVE_TIMEOUT applies.
    sip_keepalive_missed: int = Field(default=3, ge=1, le=10)
    # GB/T 28181-2022 devices: the alarm subscription's Expires; refreshed at two thirds.
    sip_subscription_expires: int = Field(default=3600, ge=10, le=86400)
    # How often registrations are checked for expiry and subscriptions for refresh.
    sip_sweep_interval: float = Field(default=5.0, gt=0, le=300)

    topic_partitions: int = Field(default=4, ge=1)
    # Copies of each topic's partitions, and how many must hold an `acks=all` write before it
    # is acknowledged (a three-node cluster: 3 and 2; one broker: 1 and the broker's default).
    topic_replication: int = Field(default=1, ge=1)
    topic_min_insync_replicas: int | None = Field(default=None, ge=1)
    stream_workers: int = Field(default=1, ge=1, le=8)  # stream worker processes, one group
    stream_app_id: str = "tuoyu-streams"
    stream_rebalance_timeout: float = 3.0  # seconds
    # How long a fetch may wait at the broker for records (see streams/transport.py).
    stream_fetch_max_wait_ms: int = Field(default=100, ge=10, le=1500)
    # How many inbound events the stream worker hands to Temporal concurrently.
    intake_max_in_flight: int = Field(default=64, ge=1)
    # A dead letter larger than this keeps its original in the claim-check store instead
    # (infra/claim_check.py): safely below the producer's 1 MiB max_request_size.
    dead_letter_max_bytes: int = Field(default=900_000, ge=1024)
    # The outbox relay in each Temporal worker (infra/outbox.py): it polls this often (seconds),
    # and sooner when a step of its own process commits; sent rows are kept this many days.
    outbox_poll_seconds: float = Field(default=0.1, gt=0, le=10)
    outbox_batch: int = Field(default=500, ge=1, le=10_000)
    outbox_retention_days: float = Field(default=7.0, ge=0)
    # POST /staff-checks waits this long for its workflow's answer, then answers 503.
    staff_check_timeout: float = Field(default=20.0, gt=0)
    log_level: str = "INFO"
    # Stopping: each process gets this many seconds for a graceful stop after SIGINT or
    # SIGTERM, then exits anyway; `tuoyu up` SIGKILLs what is left a little later. Workers
    # and then servers stop in parallel, so all of it takes under 10 s.
    stop_budget: float = Field(default=2.5, gt=0, le=30)
    # Supervision in `tuoyu up`: a child that dies is restarted after a backoff doubling
    # from `restart_backoff` up to `restart_backoff_max` seconds; more than
    # `restart_limit` restarts of one child within `restart_window` seconds is a crash loop,
    # and everything stops.
    restart_backoff: float = Field(default=0.5, gt=0)
    restart_backoff_max: float = Field(default=30.0, gt=0)
    restart_limit: int = Field(default=5, ge=1)
    restart_window: float = Field(default=120.0, gt=0)
    # Prometheus: the API serves /metrics on its own port; the workers listen here (the
    # n-th Temporal worker process on temporal_metrics_port + n - 1).
    temporal_metrics_port: int = 9464
    stream_metrics_port: int = 9474
    # Camera alarms: the alarms one device sends within this many seconds are one storm (one
    # case, one count); must divide an hour so windows never straddle a local midnight.
    alarm_storm_window: int = Field(default=60, ge=1, le=3600)
    # A device silent this long (GB/T 28181: 3 missed 60 s keepalives) raises a finding.
    keepalive_timeout: float = Field(default=180.0, gt=0)
    camera_check_interval: float = Field(default=5.0, gt=0)  # how often both are looked at
    # The case ladder's time limits; default infra/data/deadlines.toml.
    deadlines_file: Path | None = None
    # Secret for the keyed hash of identity numbers; default: a key file in the data dir.
    id_hash_key: SecretStr | None = None
    # How long a bearer token works after it was issued (`tuoyu users add/rotate`): ISO 8601
    # (`P30D`, `PT12H`) or seconds. Shortening it takes effect at once for every token.
    token_ttl: timedelta = Field(default=timedelta(days=30), gt=timedelta(0))
    # Open311 GeoReport v2: the one jurisdiction served (a request naming another gets 400);
    # the GeoJSON boundaries that map lat/long to a town (default: the approximate placeholder
    # in infra/data/boundaries/, see its README); the most requests one GET answers (the
    # spec's 1,000, beside its 90 days).
    open311_jurisdiction: str = Field(default="kaili.gov.cn", min_length=1, max_length=100)
    open311_boundaries: Path | None = None
    open311_max_requests: int = Field(default=1000, ge=1, le=1000)
    # The vault's key-encryption key (base64, 32 bytes): seals callers' contacts and identity
    # numbers, and (derived from it) every Temporal payload. Default: a key file in the data
    # dir. Keys rotated out stay here so what they sealed still opens (`tuoyu vault rewrap`).
    vault_key: SecretStr | None = None
    vault_previous_keys: list[SecretStr] = []
    # Origins allowed to call the codec endpoint from a browser; default: the embedded UI's.
    codec_cors_origins: list[str] = []
    # The audit trail's pinned public key(s) (Ed25519, hex, comma-separated) or a file of
    # them kept outside the data dir: `tuoyu audit verify` trusts nothing else.
    audit_public_key: str | None = None
    audit_public_key_file: Path | None = None
    # Enforcement policy (sanctions, joint punishment measures, publicity periods).
    enforcement_file: Path | None = None
    # A real credit platform's HTTP endpoint for entries and removals; unset: topic only.
    credit_platform_url: str | None = None

    @field_validator("alarm_storm_window")
    @classmethod
    def _divides_an_hour(cls, value: int) -> int:
        if 3600 % value:
            raise ValueError("alarm_storm_window must divide 3600 seconds")
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'tuoyu.db').resolve()}"

    @property
    def sip_domain(self) -> str:
        return self.sip_realm or self.sip_platform_id[:10]

    @property
    def kafka_host_port(self) -> tuple[str, int]:
        first = self.kafka_bootstrap.split(",")[0].strip()
        host, _, port = first.rpartition(":")
        return host or "127.0.0.1", int(port)

    @property
    def temporal_host_port(self) -> tuple[str, int]:
        host, _, port = self.temporal_address.rpartition(":")
        return host or "127.0.0.1", int(port)


@lru_cache
def get_settings() -> Settings:
    return Settings()
