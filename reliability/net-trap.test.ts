/**
 * The non-loopback trap is on for this suite: a connection to anything but
 * 127.0.0.1 / ::1 fails at once and is recorded (and net-trap-check.ts fails the
 * file if anything is left recorded). The metadata server is switched off.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';

const trap = (): string[] => (globalThis as { __smartBackfillNetTrap?: string[] }).__smartBackfillNetTrap!;

describe('network trap', () => {
  it('refuses a non-loopback connection and records it; loopback is allowed', async () => {
    expect(trap()).toEqual([]);
    expect(process.env['METADATA_SERVER_DETECTION']).toBe('none');
    expect(() => net.connect({ host: '169.254.169.254', port: 80 })).toThrow(/may only use loopback/);
    expect(trap()).toEqual(['169.254.169.254']);
    trap().length = 0; // planted by this test; the afterAll check must see none from anyone else

    const server = net.createServer((s) => s.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const got = await new Promise<string>((resolve, reject) => {
      const c = net.connect({ host: '127.0.0.1', port });
      let data = '';
      c.on('data', (d) => (data += String(d)));
      c.on('end', () => resolve(data));
      c.on('error', reject);
    });
    server.close();
    expect(got).toBe('ok');
    expect(trap()).toEqual([]);
  });
});
