/**
 * Runs before every test file of every package.
 *
 * - Google clients look for credentials on the GCE metadata server
 *   (169.254.169.254). Tell them there is none, and trap any socket that would
 *   leave loopback so a test that tries fails loudly instead of reaching out.
 * - fast-check runs with a fixed seed in CI; `npm test -- --seed N` overrides it.
 */
import net from 'node:net';
import fc from 'fast-check';

process.env['METADATA_SERVER_DETECTION'] = 'none';
process.env['GCE_METADATA_HOST'] = '127.0.0.1:9';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost|::ffff:127\.\d+\.\d+\.\d+)$/i;
const trapped = globalThis as { __smartBackfillNetTrap?: string[] };
if (trapped.__smartBackfillNetTrap === undefined) {
  trapped.__smartBackfillNetTrap = [];
  // eslint-disable-next-line @typescript-eslint/unbound-method -- taken off the prototype to be called back with the socket as `this` (apply below)
  const original = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function patched(this: net.Socket, ...args: unknown[]) {
    // net.connect / http.request / http2.connect call this with Node's normalized [options, callback] pair.
    const first = (Array.isArray(args[0]) ? args[0][0] : args[0]) as { host?: string; path?: string } | number | string | undefined;
    let host: string | undefined;
    if (typeof first === 'object' && first !== null) host = first.path !== undefined ? undefined : (first.host ?? 'localhost');
    else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first)))
      host = typeof args[1] === 'string' ? args[1] : 'localhost';
    if (host !== undefined && !LOOPBACK.test(host)) {
      trapped.__smartBackfillNetTrap!.push(host);
      throw new Error(`[smart-backfill test] a test tried to connect to ${host}; tests may only use loopback`);
    }
    return (original as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof net.Socket.prototype.connect;
}

const seed = Number(process.env['FC_SEED'] ?? 20251116);
fc.configureGlobal({ seed, numRuns: Number(process.env['FC_NUM_RUNS'] ?? 100) });
