"""Python `websockets` echo servers, at their default settings, for ws-io's `client`.

    python_server.py PORT CHAT_PORT

On 127.0.0.1:PORT, `websockets.asyncio.server.serve` with nothing changed (no
subprotocols, permessage-deflate accepted; the path /token refuses with 401 unless the
request has `X-Token: abc`). On 127.0.0.1:CHAT_PORT the same with
`subprotocols=["chat"]`. Both echo every message. When a connection ends, prints one JSON
line: port, path, subprotocol, X-Token, extensions (the Sec-WebSocket-Extensions the
server answered, or null), the text and binary messages received and how many of them
came compressed (RSV1 on their first frame), the close code and reason the client sent.
Exits after 120 s whatever happens.
"""

import asyncio
import json
import sys

import websockets
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed
from websockets.extensions.permessage_deflate import PerMessageDeflate
from websockets.frames import Opcode

LIFETIME = 120


def count_compressed(connection, _request, _response):
    """process_response: before any frame arrives, counts the compressed messages."""
    connection.compressed = 0
    for extension in connection.protocol.extensions:
        if isinstance(extension, PerMessageDeflate):
            decode = extension.decode

            def counting(frame, decode=decode, **kwargs):
                if frame.opcode in (Opcode.TEXT, Opcode.BINARY) and frame.rsv1:
                    connection.compressed += 1
                return decode(frame, **kwargs)

            extension.decode = counting


async def echo(ws):
    messages = 0
    try:
        async for message in ws:
            messages += 1
            await ws.send(message)
    except ConnectionClosed:
        pass
    finally:
        rcvd = ws.protocol.close_rcvd
        print(
            json.dumps(
                {
                    "port": ws.local_address[1],
                    "path": ws.request.path,
                    "subprotocol": ws.subprotocol,
                    "x_token": ws.request.headers.get("X-Token"),
                    "extensions": ws.response.headers.get("Sec-WebSocket-Extensions"),
                    "messages": messages,
                    "compressed": ws.compressed,
                    "close_code": rcvd.code if rcvd else None,
                    "close_reason": rcvd.reason if rcvd else None,
                }
            ),
            flush=True,
        )


def require_token(connection, request):
    if request.path == "/token" and request.headers.get("X-Token") != "abc":
        return connection.respond(401, "X-Token: abc required\n")
    return None


async def main(port, chat_port):
    async with (
        serve(echo, "127.0.0.1", port, process_request=require_token, process_response=count_compressed),
        serve(echo, "127.0.0.1", chat_port, subprotocols=["chat"], process_response=count_compressed),
    ):
        print(f"# websockets {websockets.version.version} echo on {port}, with subprotocol 'chat' on {chat_port}", flush=True)
        await asyncio.sleep(LIFETIME)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
