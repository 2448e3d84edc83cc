// Which layers are unpacked again over their lowers (snapshot/lower-view.ts): the answer comes from
// the lower snapshots alone, never from where one of their symlinks leads on the host.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { mayMeetLowerEntry } from '../../src/snapshot/lower-view.js';

let tmp: string;
afterEach(() => rmSync(tmp, { recursive: true, force: true }));

function setup(outsideB: 'dir' | 'link' | 'none') {
  tmp = mkdtempSync(join(tmpdir(), 'berth-lower-view-'));
  const outside = join(tmp, 'outside');
  const lower = join(tmp, 'lower');
  mkdirSync(outside);
  mkdirSync(lower);
  if (outsideB === 'dir') mkdirSync(join(outside, 'b'));
  if (outsideB === 'link') symlinkSync('/etc', join(outside, 'b'));
  symlinkSync(outside, join(lower, 'a')); // a lower's link out of its snapshot
  return lower;
}

describe('mayMeetLowerEntry', () => {
  it('a directory under a lower symlink is met whatever the link target holds on the host', () => {
    const answers = (['dir', 'link', 'none'] as const).map((b) => {
      const lower = setup(b);
      const met = mayMeetLowerEntry([lower], [Buffer.from('a/b')]);
      rmSync(tmp, { recursive: true, force: true });
      return met;
    });
    expect(answers).toEqual([true, true, true]);
  });

  it('a directory whited out on the way, or nowhere in the lowers, is not met', () => {
    tmp = mkdtempSync(join(tmpdir(), 'berth-lower-view-'));
    const top = join(tmp, 'top');
    const bottom = join(tmp, 'bottom');
    mkdirSync(join(top, 'usr'), { recursive: true });
    mkdirSync(join(bottom, 'usr', 'opt'), { recursive: true });
    symlinkSync('/', join(bottom, 'usr', 'opt', 'x'));
    writeFileSync(join(bottom, 'file'), '');
    expect(mayMeetLowerEntry([top, bottom], [Buffer.from('new'), Buffer.from('new/deep')])).toBe(false);
    expect(mayMeetLowerEntry([top, bottom], [Buffer.from('usr/opt/x')])).toBe(true);
    expect(mayMeetLowerEntry([top, bottom], [Buffer.from('file/y')])).toBe(true);
  });
});
