"""The SIP gateway process (GB/T 28181 registration, alarms and keepalives, UDP and TCP)."""

from __future__ import annotations

import asyncio
import logging
import signal

import prometheus_client

from api.sip.gateway import Gateway
from api.sip.listeners import serve
from infra import shutdown
from infra.db import make_engine, session_factory
from infra.kafka import KafkaPublisher
from infra.logs import configure as configure_logging
from infra.settings import get_settings

log = logging.getLogger("tuoyu.sip_gateway")


async def run() -> None:
    settings = get_settings()
    publisher = KafkaPublisher.for_settings(settings)
    engine = make_engine(settings.resolved_database_url)
    gateway = Gateway(publisher, settings, session_factory(engine))
    await gateway.start()
    udp, tcp = await serve(gateway, settings.sip_host, settings.sip_port)
    sweep = asyncio.create_task(gateway.sweep())
    log.info("SIP gateway on %s:%d (UDP and TCP)", settings.sip_host, settings.sip_port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    shutdown.backstop(settings.stop_budget, "sip-gateway")  # the producer's close may wait
    try:
        await stop.wait()
    finally:
        sweep.cancel()
        udp.close()
        tcp.close()
        publisher.close()
        engine.dispose()


def main() -> None:
    settings = get_settings()
    shutdown.early_handlers(settings.stop_budget, "sip-gateway")
    configure_logging(settings.log_level)
    prometheus_client.start_http_server(settings.sip_metrics_port, addr=settings.http_host)
    asyncio.run(run())


if __name__ == "__main__":
    main()
