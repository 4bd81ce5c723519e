"""sipp (Debian package sip-tester) playing a GB/T 28181 device: scenarios written per test,
bodies in the device's encoding, and an out-of-call scenario (`-oocsf`) that answers the
platform's `<Response>` MESSAGE, which arrives as a new dialog."""

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
    sipp = shutil.which("sipp")
    assert sipp is not None, "sipp is missing: apt-get install sip-tester"
    write_scenarios(workdir, device, body, expect, linger_ms)
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
