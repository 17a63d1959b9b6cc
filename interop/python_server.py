"""Python `websockets` echo servers, at their default settings, for ws-io's `client`.

    python_server.py PORT CHAT_PORT

On 127.0.0.1:PORT, `websockets.asyncio.server.serve` with nothing changed (no
subprotocols; the path /token refuses with 401 unless the request has `X-Token: abc`).
On 127.0.0.1:CHAT_PORT the same with `subprotocols=["chat"]`. Both echo every message.
When a connection ends, prints one JSON line: port, path, subprotocol, X-Token, the
close code and reason the client sent. Exits after 120 s whatever happens.
"""

import asyncio
import json
import sys

import websockets
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

LIFETIME = 120


async def echo(ws):
    try:
        async for message in ws:
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
        serve(echo, "127.0.0.1", port, process_request=require_token),
        serve(echo, "127.0.0.1", chat_port, subprotocols=["chat"]),
    ):
        print(f"# websockets {websockets.version.version} echo on {port}, with subprotocol 'chat' on {chat_port}", flush=True)
        await asyncio.sleep(LIFETIME)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
