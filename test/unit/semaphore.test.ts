// The slots the executor's steps take (lib/semaphore.ts): a bound, and a stop that lets nothing
// queued start.
import { describe, expect, it } from 'vitest';
import { createSemaphore } from '../../src/lib/semaphore.js';

describe('semaphore', () => {
  it('runs at most `limit` at once, the rest in order', async () => {
    const slot = createSemaphore(2);
    let active = 0;
    let most = 0;
    const order: number[] = [];
    const job = (n: number) =>
      slot(async () => {
        active++;
        most = Math.max(most, active);
        await new Promise((r) => setImmediate(r));
        order.push(n);
        active--;
      });
    await Promise.all([1, 2, 3, 4, 5].map(job));
    expect([most, order]).toEqual([2, [1, 2, 3, 4, 5]]);
  });

  it('once the signal is aborted, one that waited for its slot does not run; the holder finishes', async () => {
    const stop = new AbortController();
    const slot = createSemaphore(1, { signal: stop.signal });
    let release: () => void = () => undefined;
    const holder = slot(() => new Promise<string>((r) => (release = () => r('finished'))));
    let ran = false;
    const queued = slot(async () => {
      ran = true;
    });
    stop.abort();
    release();
    expect(await holder).toBe('finished');
    await expect(queued).rejects.toMatchObject({ code: 'ERR_STOPPING' });
    expect(ran).toBe(false);
    await expect(slot(async () => 'after')).rejects.toMatchObject({ code: 'ERR_STOPPING' });
  });
});
