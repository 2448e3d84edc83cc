// Telling a container's conmon from whatever else holds a pid (conmon-process.ts): its argv.
import { describe, expect, it } from 'vitest';
import { conmonIdentity, isConmonOf } from '../../src/runtime/conmon-process.js';

const ID = 'a'.repeat(32);

describe('conmon identity', () => {
  it('reads --cid and --name from a NUL-separated cmdline; anything else is no conmon', () => {
    const argv = (...a: string[]) => `${a.join('\0')}\0`;
    expect(
      [
        argv('conmon', '--api-version', '1', '--cid', ID, '--cuuid', ID, '--name', 'web_main'),
        argv('conmon', '--cid', ID),
        argv('sshd', '-D'),
        '',
      ].map(conmonIdentity),
    ).toEqual([{ id: ID, name: 'web_main' }, { id: ID }, undefined, undefined]);
  });

  it('a live process that is not a conmon (this one), or no process at all, is no conmon of the id', () => {
    expect([isConmonOf(process.pid, ID), isConmonOf(0, ID), isConmonOf(2 ** 22 + 7, ID)]).toEqual([
      false,
      false,
      false,
    ]);
  });
});
