"""Python `websockets` client, at its default settings, against a ws-io echo server.

    python_client.py URL LABEL [--expect-protocol NAME]

Prints one PASS/FAIL line per check, prefixed with LABEL; exits 1 if any fails or the
whole run takes longer than 60 s. Each check has a connection of its own, opened with
`websockets.asyncio.client.connect(URL)` and nothing else changed (so permessage-deflate
is offered, messages are limited to 1 MiB, keepalive pings every 20 s) except the
subprotocols the subprotocol check offers.

The server is expected to agree permessage-deflate: every connection checks that it did,
and, websockets compressing every message it sends, that every message echoed came back
compressed (RSV1 set on its first frame, counted as websockets inflates it).
"""

import asyncio
import contextlib
import os
import sys

import websockets
from websockets.asyncio.client import connect
from websockets.extensions.permessage_deflate import PerMessageDeflate
from websockets.frames import Opcode

TIMEOUT = 60
# websockets' default max_size: the largest message it accepts.
MAX_SIZE = 2**20


class Failed(Exception):
    pass


def expect(ok, why):
    if not ok:
        raise Failed(why)


def show(value):
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:60]}... ({len(value)} long)"


@contextlib.asynccontextmanager
async def session(url, **kwargs):
    """`connect(url, **kwargs)`, permessage-deflate agreed, compressed messages counted.

    `ws.compressed` counts the text and binary messages whose first frame came with RSV1,
    seen as the agreed PerMessageDeflate decodes them.
    """
    async with connect(url, **kwargs) as ws:
        agreed = ws.protocol.extensions
        expect(
            len(agreed) == 1 and isinstance(agreed[0], PerMessageDeflate),
            f"permessage-deflate not negotiated: extensions {agreed}, "
            f"answer {ws.response.headers.get('Sec-WebSocket-Extensions')!r}",
        )
        deflate = agreed[0]
        decode = deflate.decode
        ws.compressed = 0

        def counting(frame, **kwargs):
            if frame.opcode in (Opcode.TEXT, Opcode.BINARY) and frame.rsv1:
                ws.compressed += 1
            return decode(frame, **kwargs)

        deflate.decode = counting
        yield ws


def expect_compressed(ws, before, messages=1):
    got = ws.compressed - before
    expect(got == messages, f"{messages - got} of {messages} echoed messages came back uncompressed (no RSV1)")


async def echo(ws, message):
    before = ws.compressed
    await ws.send(message)
    got = await ws.recv()
    expect(type(got) is type(message), f"sent {type(message).__name__}, got {type(got).__name__}")
    expect(got == message, f"sent {show(message)}, got {show(got)}")
    expect_compressed(ws, before)


async def check_handshake(url, _expected_protocol):
    async with session(url) as ws:
        offered = ws.request.headers.get("Sec-WebSocket-Extensions", "")
        expect("permessage-deflate" in offered, f"websockets did not offer permessage-deflate ({offered!r})")
        expect(ws.response.status_code == 101, f"status {ws.response.status_code}")
        expect(ws.subprotocol is None, f"subprotocol {ws.subprotocol!r} though none was offered")
        answer = ws.response.headers.get("Sec-WebSocket-Extensions")
        print(f"# offered {offered!r}, agreed {answer!r}", flush=True)


async def check_text(url, _):
    async with session(url) as ws:
        await echo(ws, "héllo wörld 😀 你好，世界 こんにちは 🎉")


async def check_empty(url, _):
    async with session(url) as ws:
        await echo(ws, "")
        await echo(ws, b"")


async def check_64k_text(url, _):
    # 6553 x 10 bytes of 1- to 4-byte characters, and 6 more: 65536 bytes of UTF-8.
    text = "aé世😀" * 6553 + "abcdef"
    assert len(text.encode()) == 64 * 1024
    async with session(url) as ws:
        await echo(ws, text)


async def check_binary_below_max_size(url, _):
    # Just below the default max_size, so the client's defaults accept the echo.
    data = os.urandom(MAX_SIZE - 64)
    async with session(url) as ws:
        await echo(ws, data)


async def check_in_order(url, _):
    messages = [f"message {i:04} ✓" if i % 2 else f"message {i:04}".encode() for i in range(1000)]
    async with session(url) as ws:

        async def sender():
            for m in messages:
                await ws.send(m)

        sending = asyncio.create_task(sender())
        for i, m in enumerate(messages):
            got = await ws.recv()
            expect(got == m, f"message {i}: expected {show(m)}, got {show(got)}")
        await sending
        expect_compressed(ws, 0, len(messages))


async def check_ping(url, _):
    async with session(url) as ws:
        pong = await ws.ping(b"interop ping")
        try:
            await asyncio.wait_for(asyncio.shield(pong), 5)
        except TimeoutError:
            # Tell a pong never sent from one sent late, behind the next message.
            await echo(ws, "after ping")
            late = "it came only once a message was sent after the ping" if pong.done() else "none since either"
            raise Failed(f"no pong within 5 s of the ping; {late}") from None
        # The connection still echoes after the control frames.
        await echo(ws, "after ping")


async def check_subprotocol(url, expected):
    async with session(url, subprotocols=["chat"]) as ws:
        expect(ws.subprotocol == expected, f"offered ['chat'], selected {ws.subprotocol!r}, expected {expected!r}")
        await echo(ws, "with subprotocol")


async def check_close(url, _):
    async with session(url) as ws:
        await echo(ws, "before close")
        await ws.close(4000, "bye")
        rcvd, sent = ws.protocol.close_rcvd, ws.protocol.close_sent
        expect(sent is not None and sent.code == 4000, f"close sent: {sent}")
        expect(rcvd is not None, "no close frame came back")
        expect((rcvd.code, rcvd.reason) == (4000, "bye"), f"close came back as {rcvd.code} {rcvd.reason!r}")
        expect((ws.close_code, ws.close_reason) == (4000, "bye"), f"close_code {ws.close_code} {ws.close_reason!r}")
        expect(not ws.protocol.close_rcvd_then_sent, "close frames crossed")


def checks(expected_protocol):
    return [
        ("handshake: permessage-deflate offered and negotiated, no subprotocol", check_handshake),
        ("text with emoji/CJK", check_text),
        ("empty text and empty binary", check_empty),
        ("64 KiB text", check_64k_text),
        (f"{MAX_SIZE - 64} bytes binary (1 MiB - 64, within default max_size)", check_binary_below_max_size),
        ("1000 messages (text and binary) in order", check_in_order),
        ("ping answered by a pong", check_ping),
        (
            f"offered subprotocol 'chat', {expected_protocol!r} selected"
            if expected_protocol
            else "offered subprotocol 'chat', none selected",
            check_subprotocol,
        ),
        ("close(4000, 'bye') answered with 4000 'bye'", check_close),
    ]


async def main(url, label, expected_protocol):
    failed = 0
    for what, check in checks(expected_protocol):
        try:
            await asyncio.wait_for(check(url, expected_protocol), 20)
            print(f"PASS {label}: {what}", flush=True)
        except Exception as e:  # noqa: BLE001 - every failure is reported the same way
            failed += 1
            why = str(e) or type(e).__name__
            print(f"FAIL {label}: {what} — {type(e).__name__}: {why}", flush=True)
    return failed


if __name__ == "__main__":
    args = sys.argv[1:]
    expected = None
    if len(args) == 4 and args[2] == "--expect-protocol":
        expected = args[3]
        args = args[:2]
    if len(args) != 2:
        sys.exit(__doc__)
    url, label = args
    print(f"# websockets {websockets.version.version} → {url}", flush=True)
    try:
        failures = asyncio.run(asyncio.wait_for(main(url, label, expected), TIMEOUT))
    except TimeoutError:
        print(f"FAIL {label}: did not finish within {TIMEOUT} s", flush=True)
        sys.exit(1)
    sys.exit(1 if failures else 0)
