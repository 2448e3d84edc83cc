// A bridge berth did not make gets back its route_localnet when berth lets it go (bridge-marks.ts):
// noted once, before berth's first attach on it sets anything (a later attach, after port rules
// set it to 1, does not note 1 over it), put back by forget; a bridge berth made is not noted (it
// goes with `network rm`). The /sys and /proc trees are the test's own.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bridgeMarksOf } from '../../src/network/bridge-marks.js';

describe("a bridge's route_localnet", () => {
  let work: string;
  const setting = (bridge: string) => join(work, 'conf', bridge, 'route_localnet');
  const marksOf = (bridge: string) =>
    bridgeMarksOf(bridge, join(work, 'locks'), join(work, 'sys'), join(work, 'conf'));
  const bridgeThere = async (bridge: string, localnet: string) => {
    await mkdir(join(work, 'sys', bridge), { recursive: true });
    await mkdir(join(work, 'conf', bridge), { recursive: true });
    await writeFile(setting(bridge), `${localnet}\n`);
  };
  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), 'berth-bridge-marks-'));
  });
  afterEach(() => rm(work, { recursive: true, force: true }));

  it('of a bridge berth did not make is put back as found before its first attach', async () => {
    await bridgeThere('docker9', '0');
    const marks = marksOf('docker9');
    expect(marks.absent()).toBe(false);
    await marks.noteLocalnet();
    await writeFile(setting('docker9'), '1\n'); // the pod's port rules
    await marksOf('docker9').noteLocalnet(); // another process's attach: 1 is not noted over 0
    await marks.forget();
    expect(await readFile(setting('docker9'), 'utf8')).toBe('0\n');
  });

  it("is noted again by a process that noted it before, once another process's network rm put it back", async () => {
    await bridgeThere('docker7', '0');
    const daemon = marksOf('docker7');
    await daemon.noteLocalnet();
    await writeFile(setting('docker7'), '1\n'); // the daemon's pod publishes a port
    await marksOf('docker7').forget(); // `berth network rm` from the CLI, the daemon running
    expect(await readFile(setting('docker7'), 'utf8')).toBe('0\n');
    await daemon.noteLocalnet(); // the daemon's next hostPort pod
    await writeFile(setting('docker7'), '1\n');
    await daemon.forget();
    expect(await readFile(setting('docker7'), 'utf8')).toBe('0\n');
  });

  it('of a bridge that had it at 1 (Docker without its userland proxy) stays 1', async () => {
    await bridgeThere('docker8', '1');
    const marks = marksOf('docker8');
    await marks.noteLocalnet();
    await marks.forget();
    expect(await readFile(setting('docker8'), 'utf8')).toBe('1\n');
  });

  it('of a bridge berth made is not noted: the bridge goes at network rm', async () => {
    const marks = marksOf('berth9');
    expect(marks.absent()).toBe(true);
    await marks.note();
    await bridgeThere('berth9', '1');
    await marks.noteLocalnet();
    await writeFile(setting('berth9'), '1\n');
    await marks.forget();
    expect(await marks.made()).toBe(false);
    expect(await readFile(setting('berth9'), 'utf8')).toBe('1\n');
  });
});
