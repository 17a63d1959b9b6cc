// Node's `ws` client, at its default settings, against a ws-io echo server.
//
//     node node_client.mjs URL LABEL [--expect-protocol NAME]
//
// Prints one PASS/FAIL line per check, prefixed with LABEL; exits 1 if any fails or the
// whole run takes longer than 60 s. Each check has a connection of its own, opened with
// `new WebSocket(URL)` and no options (so permessage-deflate is offered and messages may
// be up to 100 MiB), except the subprotocols the subprotocol check offers.
//
// The server is expected to agree permessage-deflate: every connection checks that it did.
// ws then compresses every message it sends (its 1 KiB `threshold` counts only where it
// may not take over its context, which a plain `permessage-deflate` answer allows), and
// every echo must come back compressed too (RSV1, counted as ws inflates them).
import { randomBytes } from 'node:crypto';
import { deadline, require } from './deps.mjs';

const { WebSocket } = require('ws');
const { version } = require('ws/package.json');

const TIMEOUT_S = 60;
const CHECK_TIMEOUT_MS = 20_000;

class Failed extends Error {}

function expect(ok, why) {
  if (!ok) throw new Failed(why);
}

function show(value) {
  const text = typeof value === 'string' ? JSON.stringify(value) : `<${value.length} bytes>`;
  return text.length <= 80 ? text : `${text.slice(0, 60)}... (${value.length} long)`;
}

/** A connection whose messages can be awaited one by one. */
class Conn {
  constructor(url, protocols) {
    this.ws = new WebSocket(url, protocols);
    this.queue = [];
    this.waiter = null;
    this.ws.on('message', (data, isBinary) => this.push({ data, isBinary }));
    this.closed = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => {
        const closed = { code, reason: reason.toString() };
        if (this.waiter) this.waiter.reject(new Failed(`closed (${code}) while waiting for a message`));
        this.waiter = null;
        resolve(closed);
      });
    });
    this.ws.on('error', (e) => {
      this.error = e;
    });
    // What the opening handshake offered (ws keeps its request until the upgrade), and
    // what the server answered.
    this.offeredExtensions = this.ws._req?.getHeader('sec-websocket-extensions') ?? '';
    this.ws.once('upgrade', (response) => {
      this.answeredExtensions = response.headers['sec-websocket-extensions'];
    });
    // Compressed messages received: the agreed extension inflates each of their frames.
    this.compressed = 0;
  }

  /** Opens a connection, which must have agreed permessage-deflate. */
  static async open(url, protocols) {
    const conn = new Conn(url, protocols);
    await new Promise((resolve, reject) => {
      conn.ws.once('open', resolve);
      conn.ws.once('error', reject);
    });
    const deflate = conn.ws._extensions['permessage-deflate'];
    expect(
      /(^|,)permessage-deflate(,|$)/.test(conn.ws.extensions) && deflate,
      `permessage-deflate not negotiated: ws.extensions ${JSON.stringify(conn.ws.extensions)}, ` +
        `answer ${JSON.stringify(conn.answeredExtensions)}`,
    );
    const decompress = deflate.decompress.bind(deflate);
    deflate.decompress = (data, fin, callback) => {
      if (fin) conn.compressed += 1;
      return decompress(data, fin, callback);
    };
    return conn;
  }

  push(message) {
    if (this.waiter) {
      this.waiter.resolve(message);
      this.waiter = null;
    } else {
      this.queue.push(message);
    }
  }

  next() {
    if (this.queue.length > 0) return Promise.resolve(this.queue.shift());
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** Sends a message and awaits its echo, which must come back compressed. */
  async echo(message) {
    const binary = typeof message !== 'string';
    const before = this.compressed;
    this.ws.send(message, { binary });
    this.expectMessage(await this.next(), message);
    this.expectCompressed(before);
  }

  expectCompressed(before, messages = 1) {
    const got = this.compressed - before;
    expect(got === messages, `${messages - got} of ${messages} echoed messages came back uncompressed (no RSV1)`);
  }

  expectMessage({ data, isBinary }, sent) {
    const binary = typeof sent !== 'string';
    expect(isBinary === binary, `sent ${binary ? 'binary' : 'text'}, got ${isBinary ? 'binary' : 'text'}`);
    const got = binary ? data : data.toString('utf8');
    const same = binary ? Buffer.compare(got, sent) === 0 : got === sent;
    expect(same, `sent ${show(sent)}, got ${show(got)}`);
  }

  async close(code, reason) {
    this.ws.close(code, reason);
    return this.closed;
  }
}

const checks = (url, expectedProtocol) => [
  [
    'handshake: permessage-deflate offered and negotiated, no subprotocol',
    async () => {
      const conn = await Conn.open(url);
      const offered = conn.offeredExtensions;
      expect(/permessage-deflate/.test(offered), `ws did not offer permessage-deflate (${offered})`);
      expect(conn.ws.protocol === '', `subprotocol ${JSON.stringify(conn.ws.protocol)} though none was offered`);
      console.log(`# offered ${JSON.stringify(offered)}, agreed ${JSON.stringify(conn.answeredExtensions)}`);
      await conn.close(1000);
    },
  ],
  [
    'text with emoji/CJK',
    async () => {
      const conn = await Conn.open(url);
      await conn.echo('héllo wörld 😀 你好，世界 こんにちは 🎉');
      await conn.close(1000);
    },
  ],
  [
    'empty text and empty binary',
    async () => {
      const conn = await Conn.open(url);
      await conn.echo('');
      await conn.echo(Buffer.alloc(0));
      await conn.close(1000);
    },
  ],
  [
    '64 KiB text',
    async () => {
      // 6553 x 10 bytes of 1- to 4-byte characters, and 6 more: 65536 bytes of UTF-8.
      const text = 'aé世😀'.repeat(6553) + 'abcdef';
      expect(Buffer.byteLength(text) === 65536, 'test text is not 64 KiB');
      const conn = await Conn.open(url);
      await conn.echo(text);
      await conn.close(1000);
    },
  ],
  [
    '1 MiB binary',
    async () => {
      const conn = await Conn.open(url);
      await conn.echo(randomBytes(1 << 20));
      await conn.close(1000);
    },
  ],
  [
    '16 MiB binary (within ws\'s default maxPayload of 100 MiB)',
    async () => {
      const conn = await Conn.open(url);
      await conn.echo(randomBytes(16 << 20));
      await conn.close(1000);
    },
  ],
  [
    '1000 messages (text and binary) in order',
    async () => {
      const conn = await Conn.open(url);
      const messages = Array.from({ length: 1000 }, (_, i) =>
        i % 2 ? `message ${i} ✓` : Buffer.from(`message ${i}`),
      );
      for (const m of messages) conn.ws.send(m, { binary: typeof m !== 'string' });
      for (const [i, m] of messages.entries()) {
        try {
          conn.expectMessage(await conn.next(), m);
        } catch (e) {
          throw new Failed(`message ${i}: ${e.message}`);
        }
      }
      conn.expectCompressed(0, messages.length);
      await conn.close(1000);
    },
  ],
  [
    'ping answered by a pong',
    async () => {
      const conn = await Conn.open(url);
      const payload = Buffer.from('interop ping');
      const pong = new Promise((resolve) => conn.ws.once('pong', resolve));
      conn.ws.ping(payload);
      const got = await pong;
      expect(Buffer.compare(got, payload) === 0, `pong carried ${show(got)}`);
      await conn.echo('after ping');
      await conn.close(1000);
    },
  ],
  [
    expectedProtocol
      ? `offered subprotocol 'chat', '${expectedProtocol}' selected`
      : "offered subprotocol 'chat', none selected",
    async () => {
      const conn = await Conn.open(url, ['chat']);
      const want = expectedProtocol ?? '';
      expect(conn.ws.protocol === want, `selected ${JSON.stringify(conn.ws.protocol)}, expected ${JSON.stringify(want)}`);
      await conn.echo('with subprotocol');
      await conn.close(1000);
    },
  ],
  [
    "close(4000, 'bye') answered with 4000 'bye'",
    async () => {
      const conn = await Conn.open(url);
      await conn.echo('before close');
      const { code, reason } = await conn.close(4000, 'bye');
      expect(code === 4000 && reason === 'bye', `close came back as ${code} ${JSON.stringify(reason)}`);
    },
  ],
];

function withTimeout(promise, ms) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Failed(`no result within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function main() {
  const args = process.argv.slice(2);
  let expectedProtocol;
  if (args.length === 4 && args[2] === '--expect-protocol') {
    expectedProtocol = args[3];
    args.length = 2;
  }
  if (args.length !== 2) {
    console.error('usage: node node_client.mjs URL LABEL [--expect-protocol NAME]');
    process.exit(2);
  }
  const [url, label] = args;
  deadline(TIMEOUT_S, label);
  console.log(`# ws ${version} → ${url}`);
  let failed = 0;
  for (const [what, check] of checks(url, expectedProtocol)) {
    try {
      await withTimeout(check(), CHECK_TIMEOUT_MS);
      console.log(`PASS ${label}: ${what}`);
    } catch (e) {
      failed += 1;
      console.log(`FAIL ${label}: ${what} — ${e.message ?? e}`);
    }
  }
  process.exit(failed ? 1 : 0);
}

await main();
