"""From a clean clone to a first case: `git clone`, `make up` (venv, install, Java and Maven
when missing, Kafka's jars, the stack), a user, a complaint over HTTP, the case shown by the
API. Then Ctrl-C (SIGINT to `make up`), timed to everything stopped.

    python -m bench.first_case [--repo .] [--keep]

Private ports and the clone's own data dir, so it runs beside anything else. Prints the
figures and writes them to `bench/results/first_case.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import httpx

from infra.process import free_port

RESULTS = Path(__file__).parent / "results" / "first_case.json"
COMPLAINT = {
    "category": "child-abuse",
    "town": "street-ximen",
    "institution_name": "某托育园",
    "description": "孩子身上有多处淤青",
}


def wait(check: object, within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not check():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.5)


def first_case(repo: Path, keep: bool) -> dict[str, float]:
    clone = Path(tempfile.mkdtemp(prefix="tuoyu-clone-"))
    http_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TUOYU_", "MAKE"))}
    env.update(
        TUOYU_KAFKA_BOOTSTRAP=f"127.0.0.1:{free_port()}",
        TUOYU_KAFKA_CONTROLLER_PORT=str(free_port()),
        TUOYU_TEMPORAL_ADDRESS=f"127.0.0.1:{free_port()}",
        TUOYU_TEMPORAL_UI_PORT=str(free_port()),
        TUOYU_HTTP_PORT=str(http_port),
        TUOYU_SIP_PORT=str(free_port()),
        TUOYU_TEMPORAL_METRICS_PORT=str(free_port()),
        TUOYU_STREAM_METRICS_PORT=str(free_port()),
        TUOYU_SIP_METRICS_PORT=str(free_port()),
    )
    began = time.monotonic()
    subprocess.run(["git", "clone", "-q", str(repo), str(clone / "tuoyu")], check=True)
    root = clone / "tuoyu"
    log = (clone / "make-up.log").open("wb")
    make = subprocess.Popen(
        ["make", "up"],
        cwd=root,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    output = clone / "make-up.log"
    try:
        wait(lambda: "Press Ctrl-C" in output.read_text(errors="replace"), 900, "make up")
        ready = time.monotonic() - began
        token = (
            subprocess.run(
                [
                    str(root / ".venv" / "bin" / "tuoyu"),
                    "users",
                    "add",
                    "first",
                    "--role",
                    "operator",
                ],
                cwd=root,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        client = httpx.Client(
            base_url=f"http://127.0.0.1:{http_port}",
            headers={"authorization": f"Bearer {token}"},
            timeout=30,
        )
        answer = client.post("/api/v1/complaints", json=COMPLAINT)
        assert answer.status_code == 202, answer.text
        status_url = answer.json()["status_url"]
        wait(lambda: client.get(status_url).status_code == 200, 300, "the first case")
        case = time.monotonic() - began
        stopping = time.monotonic()
        os.killpg(make.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends
        make.wait(timeout=60)
        stopped = time.monotonic() - stopping
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
        log.close()
        if not keep:
            shutil.rmtree(clone, ignore_errors=True)
    return {
        "clone_to_ready_s": round(ready, 1),
        "clone_to_first_case_s": round(case, 1),
        "ctrl_c_to_stopped_s": round(stopped, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parent.parent)
    parser.add_argument("--keep", action="store_true", help="keep the clone (and its logs)")
    args = parser.parse_args()
    figures = first_case(args.repo, args.keep)
    for name, value in figures.items():
        print(f"{name:24} {value:7.1f}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
