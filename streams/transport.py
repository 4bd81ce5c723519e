"""faust's aiokafka transport, with the consumer's fetch wait taken from settings.

faust fixes `fetch_max_wait_ms` at 1,500. A broker that answers a fetch only when that wait is
up, not when a record arrives (Tansu does: 0.56 s median from produce to consume at 1,500 ms,
4 ms at 100 ms), holds every event back by up to that long. A shorter wait costs an idle
consumer a few more empty fetches a second.
"""

from __future__ import annotations

from typing import Any, cast

import faust
from aiokafka import TopicPartition
from faust.transport.drivers import aiokafka as driver
from faust.types import TP, TransportT

from infra.settings import get_settings
from streams.offsets import HandedOffConsumer


class ConsumerThread(driver.AIOKafkaConsumerThread):
    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # Read by the fetcher the consumer builds when it starts; there is no public knob.
        consumer._fetch_max_wait_ms = get_settings().stream_fetch_max_wait_ms
        return consumer

    def fetched(self, tp: TP) -> tuple[int | None, float | None]:
        """The partition's highwater as of its last successful fetch, and when that was
        (epoch seconds); (None, None) while aiokafka does not hold it. The same fetcher state
        faust reads for its own lag check (`AIOKafkaConsumerThread.verify_event_path`)."""
        try:
            fetcher = self._ensure_consumer()._fetcher
            state = fetcher._subscriptions.subscription.assignment.state_value(
                TopicPartition(tp.topic, tp.partition)
            )
        except (AttributeError, AssertionError):  # stopped, or between assignments
            return None, None
        if state is None or state.timestamp is None:
            return None, None
        return state.highwater, state.timestamp / 1000


class Consumer(HandedOffConsumer):
    def _new_consumer_thread(self) -> ConsumerThread:
        return ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    def fetched(self, tp: TP) -> tuple[int | None, float | None]:
        return cast(ConsumerThread, self._thread).fetched(tp)


class Transport(driver.Transport):
    Consumer = Consumer


class App(faust.App):
    def _new_transport(self) -> TransportT:
        return Transport(self.conf.broker_consumer, self)
