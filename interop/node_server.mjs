// Node's `ws` WebSocketServer, at its default settings (so permessage-deflate is off on
// the server side, messages up to 100 MiB), echoing every message, for ws-io's `client`.
//
//     node node_server.mjs PORT
//
// Listens on 127.0.0.1:PORT. When a connection ends, prints one JSON line: path,
// subprotocol, extensions, the close code and reason the client sent. Exits after 120 s
// whatever happens.
import { deadline, require } from './deps.mjs';

const { WebSocketServer } = require('ws');
const { version } = require('ws/package.json');

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || process.argv.length !== 3) {
  console.error('usage: node node_server.mjs PORT');
  process.exit(2);
}
deadline(120, 'node server');

const server = new WebSocketServer({ host: '127.0.0.1', port });
server.on('listening', () => {
  const { perMessageDeflate, maxPayload } = server.options;
  console.log(`# ws ${version} echo on ${port} (defaults: perMessageDeflate ${perMessageDeflate}, maxPayload ${maxPayload})`);
});
server.on('connection', (ws, request) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('close', (code, reason) => {
    console.log(
      JSON.stringify({
        port,
        path: request.url,
        subprotocol: ws.protocol || null,
        extensions: ws.extensions || null,
        close_code: code,
        close_reason: reason.toString(),
      }),
    );
  });
});
