// The daemon's trigger on the prober's findings (<state>/health.json replaced atomically, as the
// daemon writes it): a change of a container's started or ready, or a new container id, triggers;
// a probe's new time or message alone does not (it changes every period).
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gateSignature, watchHealthGates } from '../../src/daemon/health-watch.js';
import type { HealthFile } from '../../src/health/health-file.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-health-watch-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const file = (ready: boolean, at: string, id = 'c1'): HealthFile => ({
  pid: process.pid,
  containers: {
    db_main: {
      id,
      started: true,
      ready,
      lastProbe: { probe: 'readiness', ok: ready, message: ready ? 'HTTP 200' : 'HTTP 503', at },
    },
  },
});

describe('health watch', () => {
  it('the signature is what gates read: started, ready and the container id, in any key order', () => {
    expect(gateSignature(file(false, 'a'))).toBe(gateSignature(file(false, 'b')));
    expect(gateSignature(file(false, 'a'))).not.toBe(gateSignature(file(true, 'a')));
    expect(gateSignature(file(true, 'a'))).not.toBe(gateSignature(file(true, 'a', 'c2')));
    expect(gateSignature(undefined)).toBe('');
  });

  it('triggers on a readiness change of the replaced file, not on a new probe time; garbage is no file', async () => {
    const state = join(dir, 'state');
    const path = join(state, 'health.json');
    let n = 0;
    const write = async (h: HealthFile | string) => {
      const tmp = join(state, `.health.json.${++n}`);
      await writeFile(tmp, typeof h === 'string' ? h : JSON.stringify(h));
      await rename(tmp, path);
    };
    const triggers: number[] = [];
    let waiter: (() => void) | undefined;
    const watch = await watchHealthGates(path, () => {
      triggers.push(n);
      waiter?.();
    });
    const nextTrigger = () =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no trigger within 5 s')), 5000);
        waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    try {
      let next = nextTrigger();
      await write(file(false, 't1')); // none → not ready: the gates' view changed
      await next;
      next = nextTrigger();
      await write(file(false, 't2')); // only the probe's time: no trigger
      await write(file(false, 't3'));
      await write(file(true, 't4')); // ready
      await next;
      next = nextTrigger();
      await write('{not json'); // unreadable: as no file
      await next;
      expect(triggers).toEqual([1, 4, 5]);
    } finally {
      watch.close();
    }
  });
});
