"""Chaos on the default stack (Apache Kafka + SQLite): a mixed load with bad events for
`--minutes` (15), a random process killed with SIGKILL every `--every` seconds (60), the
stack's own supervisor bringing it back; at the end the same accounting as the fault matrix
(tests/test_fault_matrix.py): every acknowledged event a case, finding or dead letter exactly
once, every dispatch recorded once and sent at least once.

    python -m bench.chaos [--minutes 15] [--every 60] [--seed 1]

Prints the counts and writes them to `bench/results/chaos.json`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import time
from pathlib import Path
from typing import Any

from bench.throughput import bench_settings
from tests.faults import VICTIMS, Mix, Supervised, render

RESULTS = Path(__file__).parent / "results" / "chaos.json"


async def chaos(minutes: float, every: float, seed: int) -> dict[str, Any]:
    settings = bench_settings("kafka")
    rng = random.Random(seed)
    supervised = await asyncio.to_thread(Supervised, settings)
    mix = Mix(supervised.stack)
    kills: list[dict[str, Any]] = []
    try:
        await mix.register_devices(30)
        began = time.monotonic()
        end = began + minutes * 60
        next_kill = began + every
        while time.monotonic() < end:
            await mix.burst(complaints=3)
            if len(mix.devices) < 5:
                try:
                    await mix.register_devices(20)
                except AssertionError:
                    pass  # registrations wait while the stream worker is down
            if time.monotonic() >= next_kill:
                victim = rng.choice(VICTIMS)
                took = await mix.kill(victim)
                kills.append(
                    {
                        "at_s": round(time.monotonic() - began),
                        "process": victim,
                        "back_after_s": round(took, 1),
                    }
                )
                print(f"{kills[-1]['at_s']:5}s killed {victim}; back after {took:.1f}s", flush=True)
                next_kill += every
            if supervised.failure is not None:
                raise RuntimeError(f"the supervisor gave up: {supervised.failure}")
        print("load stopped; waiting for everything acknowledged to be accounted for", flush=True)
        counts = await mix.settle(within=600)
        counts["complete"] = mix.complete(counts)
        counts["kills"] = kills
        counts["minutes"] = minutes
        counts["restarts"] = {
            n: {"restarts": h.restarts, "last_exit": h.last_exit}
            for n, h in supervised.stack.supervisor.history.items()
        }
        return counts
    finally:
        await mix.close()
        await asyncio.to_thread(supervised.close)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--every", type=float, default=60.0, help="seconds between kills")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    counts = asyncio.run(chaos(args.minutes, args.every, args.seed))
    print(render(counts))
    print(f"kills: {len(counts['kills'])}; restarts: {json.dumps(counts['restarts'])}")
    print("COMPLETE" if counts["complete"] else "INCOMPLETE: something acknowledged is missing")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(counts, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
