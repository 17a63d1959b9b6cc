// Headless Chromium (Debian's `chromium`, driven by puppeteer-core) against a ws-io echo
// server that selects the subprotocol 'chat'.
//
//     node browser.mjs CHROMIUM URL LABEL
//
// Loads browser.html from file:// and runs its checks with the browser's own WebSocket
// (at its defaults: permessage-deflate offered, and used once agreed); watches the opening
// handshakes through the DevTools protocol to see that Chromium offered permessage-deflate
// and the server agreed it in every one. Prints one PASS/FAIL line per check, prefixed
// with LABEL; exits 1 if any fails or the whole run takes longer than 60 s.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { deadline, require } from './deps.mjs';

const puppeteer = require('puppeteer-core');
const { version } = require('puppeteer-core/package.json');

const args = process.argv.slice(2);
if (args.length !== 3) {
  console.error('usage: node browser.mjs CHROMIUM URL LABEL');
  process.exit(2);
}
const [executablePath, url, label] = args;
deadline(60, label);

const page = pathToFileURL(path.join(path.dirname(fileURLToPath(import.meta.url)), 'browser.html')).href;
const browser = await puppeteer.launch({
  executablePath,
  headless: true,
  args: [
    // Chromium's sandbox cannot run as root.
    ...(process.getuid?.() === 0 ? ['--no-sandbox'] : []),
    '--disable-gpu',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    // The page is a file:// one talking to 127.0.0.1: no Local Network Access prompt.
    '--disable-features=LocalNetworkAccessChecks',
  ],
});
let failed = 0;
try {
  console.log(`# ${await browser.version()}, puppeteer-core ${version} → ${url}`);
  const tab = await browser.newPage();
  tab.on('pageerror', (e) => console.log(`# page error: ${e.message}`));
  tab.on('console', (m) => console.log(`# console: ${m.text()}`));
  const offers = [];
  const answers = [];
  const extensions = (headers) => {
    const name = Object.keys(headers).find((h) => h.toLowerCase() === 'sec-websocket-extensions');
    return name ? headers[name] : '';
  };
  const cdp = await tab.createCDPSession();
  await cdp.send('Network.enable');
  cdp.on('Network.webSocketWillSendHandshakeRequest', ({ request }) => offers.push(extensions(request.headers)));
  cdp.on('Network.webSocketHandshakeResponseReceived', ({ response }) => {
    if (response.status === 101) answers.push(extensions(response.headers));
  });
  await tab.goto(page);
  const results = await tab.evaluate((u) => window.runChecks(u), url);
  results.push({
    what: 'Chromium offered permessage-deflate in every opening handshake',
    ok: offers.length > 0 && offers.every((o) => /permessage-deflate/.test(o)),
    why: `offers seen: ${JSON.stringify([...new Set(offers)])} in ${offers.length} handshakes`,
  });
  results.push({
    what: 'the server agreed permessage-deflate in every opening handshake',
    ok: answers.length > 0 && answers.length === offers.length && answers.every((a) => /^permessage-deflate\b/.test(a)),
    why: `answers seen: ${JSON.stringify([...new Set(answers)])} in ${answers.length} of ${offers.length} handshakes`,
  });
  for (const { what, ok, why } of results) {
    console.log(ok ? `PASS ${label}: ${what}` : `FAIL ${label}: ${what} — ${why}`);
    failed += ok ? 0 : 1;
  }
} catch (e) {
  console.log(`FAIL ${label}: ${e.message ?? e}`);
  failed += 1;
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
