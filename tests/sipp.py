"""sipp (Debian package sip-tester) playing a GB/T 28181 device: scenarios written per test,
bodies in the device's encoding, and an out-of-call scenario (`-oocsf`) that answers the
platform's `<Response>` MESSAGE, which arrives as a new dialog.

`device_scenario` assembles a whole device from the pieces in tests/data/sipp/: it
registers with digest authentication (sipp's `[authentication]`), then sends MESSAGEs
(keepalives, alarms, a Catalog response) or NOTIFYs, and may unregister at the end."""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass
from pathlib import Path

UAC = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="gb28181 device">
  <send retrans="500">
    <![CDATA[
MESSAGE sip:52260100002000000001@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];rport;branch=[branch]
From: <sip:{device}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:52260100002000000001@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 20 MESSAGE
Max-Forwards: 70
Content-Type: Application/MANSCDP+xml
Content-Length: [len]

{body}
    ]]>
  </send>
  <recv response="{expect}"/>
  <pause milliseconds="{linger}"/>
</scenario>
"""

OUT_OF_CALL = """<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="answer the platform">
  <recv request="MESSAGE"/>
  <send>
    <![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]SIPpTag01[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0

    ]]>
  </send>
</scenario>
"""


PIECES = Path(__file__).parent / "data" / "sipp"


@dataclass
class Step:
    body: bytes
    method: str = "MESSAGE"
    expect: int = 200
    pause_ms: int = 0  # before sending: lets the platform's own requests come and go


def _piece(name: str, **values: object) -> bytes:
    text = (PIECES / name).read_text("ascii")
    for key, value in values.items():
        text = text.replace("{" + key + "}", str(value))
    return text.encode("ascii")


def device_scenario(
    device: str,
    password: str,
    steps: list[Step],
    *,
    final: int = 200,
    version: str | None = None,
    unregister: bool = False,
    linger_ms: int = 1500,
) -> bytes:
    version_line = f"X-GB-Ver: {version}\n" if version else ""
    parts = [
        b'<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="gb28181 device">\n',
        _piece("register.xml", device=device, password=password, cseq=1, cseq2=2,
               expires=3600, version=version_line, final=final),
    ]  # fmt: skip
    cseq = 3
    for step in steps:
        if step.pause_ms:
            parts.append(f'  <pause milliseconds="{step.pause_ms}"/>\n'.encode())
        headers = "Event: presence\nSubscription-State: active\n" if step.method == "NOTIFY" else ""
        head, _, tail = _piece(
            "message.xml", device=device, method=step.method, cseq=cseq, expect=step.expect,
            headers=headers,
        ).partition(b"{body}")  # fmt: skip
        parts.append(head + step.body.strip() + tail)
        cseq += 1
    if unregister:
        parts.append(
            _piece("register.xml", device=device, password=password, cseq=cseq,
                   cseq2=cseq + 1, expires=0, version=version_line, final=200)
        )  # fmt: skip
    parts.append(f'  <pause milliseconds="{linger_ms}"/>\n</scenario>\n'.encode())
    return b"".join(parts)


def _write(workdir: Path, scenario: bytes, answer: bytes) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "device.xml").write_bytes(scenario)
    (workdir / "answer.xml").write_bytes(answer)


async def play_device(
    workdir: Path,
    target: tuple[str, int],
    scenario: bytes,
    *,
    transport: str = "u1",
    subscription_expires: int = 600,
) -> SippRun:
    """One device call from `device_scenario`; the platform's new dialogs are answered."""
    _write(workdir, scenario, _piece("answer.xml", subscription_expires=subscription_expires))
    return await _run(workdir, target, transport, calls=1, rate=1)


def write_scenarios(workdir: Path, device: str, body: bytes, expect: int, linger_ms: int) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    head, _, tail = UAC.partition("{body}")
    scenario = (
        head.format(device=device).encode("ascii")
        + body.strip()
        + tail.format(expect=expect, linger=linger_ms).encode("ascii")
    )
    (workdir / "device.xml").write_bytes(scenario)
    (workdir / "answer.xml").write_text(OUT_OF_CALL, "ascii")


@dataclass
class SippRun:
    returncode: int
    messages: str  # every message sent and received (-trace_msg)
    output: str


async def play(
    workdir: Path,
    target: tuple[str, int],
    device: str,
    body: bytes,
    *,
    calls: int = 1,
    transport: str = "u1",
    expect: int = 200,
    linger_ms: int = 1500,
    rate: int = 10,
) -> SippRun:
    """Send `calls` MESSAGEs (the body's `[call_number]` makes each SN differ) and answer
    whatever the platform sends back. The body's bytes go out as written (e.g. GB2312)."""
    write_scenarios(workdir, device, body, expect, linger_ms)
    return await _run(workdir, target, transport, calls=calls, rate=rate)


async def _run(
    workdir: Path, target: tuple[str, int], transport: str, *, calls: int, rate: int
) -> SippRun:
    sipp = shutil.which("sipp")
    assert sipp is not None, "sipp is missing: apt-get install sip-tester"
    trace = workdir / "messages.log"
    proc = await asyncio.create_subprocess_exec(
        sipp,
        f"{target[0]}:{target[1]}",
        "-sf", str(workdir / "device.xml"),
        "-oocsf", str(workdir / "answer.xml"),
        "-t", transport,
        "-i", "127.0.0.1",
        "-m", str(calls),
        "-r", str(rate),
        "-trace_msg", "-message_file", str(trace),
        "-timeout", "30s", "-timeout_error",
        "-nostdin",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=workdir,
    )  # fmt: skip
    out, _ = await proc.communicate()
    text = trace.read_bytes().decode("gb18030", "replace") if trace.exists() else ""
    return SippRun(proc.returncode or 0, text, out.decode("utf-8", "replace"))
