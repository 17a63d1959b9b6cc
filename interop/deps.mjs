// The npm packages of package.json, installed by `cargo xtask interop` with `npm ci` in
// target/interop/node (or in $INTEROP_NODE_DIR): resolved from there rather than from
// this directory, which has no node_modules.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const nodeDir = process.env.INTEROP_NODE_DIR ?? path.join(here, '..', 'target', 'interop', 'node');

export const require = createRequire(path.join(nodeDir, 'package.json'));

/** Exits with status 1 after `seconds`, whatever is still pending. */
export function deadline(seconds, what) {
  const timer = setTimeout(() => {
    console.log(`FAIL ${what}: no result within ${seconds} s`);
    process.exit(1);
  }, seconds * 1000);
  timer.unref();
  return timer;
}
