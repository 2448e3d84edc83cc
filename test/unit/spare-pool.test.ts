// The daemon's pool of spare places (network/spare-pool.ts), over a stand-in for the adapter's
// spares (the real ones: e2e/network-spares*.test.ts): none made until a take, one made after a
// take (a little later), a take gets a ready one, a port refusal keeps the spare for the next, any
// other failure does not, a failed make is said and tried again at the next take, the stop drops
// what is ready and makes nothing more, and size 0 makes none.
import { describe, expect, it } from 'vitest';
import type { AttachRequest, NetworkAdapter } from '../../src/network/adapter.js';
import type { Attachment } from '../../src/network/attachments.js';
import { portConflict } from '../../src/network/port-claims.js';
import { sparePoolOf } from '../../src/network/spare-pool.js';
import type { Spares } from '../../src/network/spares.js';

const req = (name: string): AttachRequest => ({
  key: `container-${name}`,
  owner: { kind: 'container', name },
  netns: `/state/netns/${name}`,
  ports: [],
  names: [name],
});

function fakeSpares(
  o: { failMake?: number; failDrop?: boolean; claimError?: (key: string) => Error | undefined } = {},
) {
  const log: string[] = [];
  let made = 0;
  let failures = o.failMake ?? 0;
  const spares: Spares = {
    async make() {
      if (failures > 0) {
        failures--;
        log.push('make failed');
        throw new Error('no address left');
      }
      const key = `spare-${++made}`;
      log.push(`make ${key}`);
      return key;
    },
    async claim(key, r, inPlace) {
      log.push(`claim ${key} for ${r.key}`);
      const err = o.claimError?.(key);
      if (err) throw err;
      inPlace?.();
      return { key: r.key, state: 'ready' } as Attachment;
    },
    async drop(keys) {
      log.push(keys ? `drop ${keys.join(',')}` : 'drop dead');
      if (o.failDrop) throw new Error('a DEL refused');
    },
    async dropHeld(held) {
      log.push(`drop held ${held.length}`);
    },
  };
  const network = async () => ({ spares }) as unknown as NetworkAdapter;
  return { log, network };
}

const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));

describe('spare pool', () => {
  it('makes none until a take; a take then gets the one made after the first', async () => {
    const f = fakeSpares();
    const pool = sparePoolOf({ network: f.network, size: 1, delayMs: 5 });
    await tick();
    expect(f.log).toEqual([]);
    expect(await pool.take(req('a'))).toBeUndefined();
    await tick();
    expect(f.log).toEqual(['drop dead', 'make spare-1']);
    let placed = false;
    expect(await pool.take(req('b'), () => (placed = true))).toMatchObject({ key: 'container-b' });
    expect(placed).toBe(true);
    await tick();
    expect(f.log.slice(2)).toEqual(['claim spare-1 for container-b', 'make spare-2']);
    await pool.close();
    expect(f.log.slice(4)).toEqual(['drop spare-2']);
    expect(await pool.take(req('c'))).toBeUndefined();
    await tick();
    expect(f.log).toHaveLength(5);
  });

  it('a port refusal keeps the spare for the next take; another failure does not', async () => {
    let refuse: Error | undefined = portConflict('port taken');
    const f = fakeSpares({ claimError: () => refuse });
    const pool = sparePoolOf({ network: f.network, size: 1, delayMs: 5 });
    await pool.take(req('a'));
    await tick();
    await expect(pool.take(req('b'))).rejects.toMatchObject({ code: 'ERR_PORT_CONFLICT' });
    refuse = new Error('gone');
    await expect(pool.take(req('c'))).rejects.toThrow('gone');
    await tick();
    refuse = undefined;
    expect(await pool.take(req('d'))).toMatchObject({ key: 'container-d' });
    expect(f.log.filter((l) => l.startsWith('claim'))).toEqual([
      'claim spare-1 for container-b',
      'claim spare-1 for container-c',
      'claim spare-2 for container-d',
    ]);
    await pool.close();
  });

  it('a make that fails is said, and tried again at the next take', async () => {
    const errors: unknown[] = [];
    const f = fakeSpares({ failMake: 1 });
    const pool = sparePoolOf({ network: f.network, size: 1, delayMs: 5, onError: (e) => errors.push(e) });
    await pool.take(req('a'));
    await tick();
    expect(errors).toEqual([new Error('no address left')]);
    expect(await pool.take(req('b'))).toBeUndefined();
    await tick();
    expect(await pool.take(req('c'))).toMatchObject({ key: 'container-c' });
    await pool.close();
  });

  it("a failed sweep of a killed daemon's spares is said and stops no fill", async () => {
    const errors: unknown[] = [];
    const f = fakeSpares({ failDrop: true });
    const pool = sparePoolOf({ network: f.network, size: 1, delayMs: 5, onError: (e) => errors.push(e) });
    await pool.take(req('a'));
    await tick();
    expect([errors, f.log]).toEqual([[new Error('a DEL refused')], ['drop dead', 'make spare-1']]);
    expect(await pool.take(req('b'))).toMatchObject({ key: 'container-b' });
    await pool.close().catch(() => undefined);
  });

  it('size 0 makes none', async () => {
    const f = fakeSpares();
    const pool = sparePoolOf({ network: f.network, size: 0, delayMs: 1 });
    expect(await pool.take(req('a'))).toBeUndefined();
    await tick();
    await pool.close();
    expect(f.log).toEqual([]);
  });
});
