// Which bridges berth made: only those does `berth network rm` delete. A bridge that was there
// before the network's first attach (docker0, virbr0, one an administrator set up and named in the
// host config) keeps existing after berth's rules go, and gets back the route_localnet it had:
// published ports set it to 1 on the bridge (port-rules.ts, portmap), which lets packets from the
// bridge reach 127.0.0.0/8, and berth's guard against that (host-rules.ts) goes with its rules;
// left at 1, the bridge's other users (Docker's containers, libvirt's guests) would reach the host's
// loopback-only services (CVE-2020-8558). Its value is noted before berth's first attach on it
// sets anything (looked at on every attach: another process may have put it back since). The
// marks and notes are host-wide, as bridges are, under the network lock directory on /run: a
// reboot takes them with the bridges.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode } from '../lib/errors.js';

export interface BridgeMarks {
  /** Whether the bridge does not exist (the next attach makes it). */
  absent(): boolean;
  /** Marks the bridge as berth's (just before the plugin makes it). */
  note(): Promise<void>;
  made(): Promise<boolean>;
  /**
   * A bridge berth did not make: notes its route_localnet as found, once (the caller holds the
   * bridge's lock, before any port rule of its attach is made), for `forget` to put back.
   */
  noteLocalnet(): Promise<void>;
  /** The bridge is no longer berth's to use: its mark goes, and a noted route_localnet is put back. */
  forget(): Promise<void>;
}

export function bridgeMarksOf(
  bridge: string,
  lockDir: string,
  sysNet = '/sys/class/net',
  procConf = '/proc/sys/net/ipv4/conf',
): BridgeMarks {
  const mark = join(lockDir, 'made-bridges', bridge);
  const found = join(lockDir, 'found-localnet', bridge);
  const setting = join(procConf, bridge, 'route_localnet');
  const made = () =>
    stat(mark).then(
      () => true,
      () => false,
    );
  return {
    absent: () => !existsSync(join(sysNet, bridge)),
    async note() {
      await mkdir(join(lockDir, 'made-bridges'), { recursive: true, mode: 0o700 });
      await writeFile(mark, '');
    },
    made,
    async noteLocalnet() {
      // Looked at on every attach (a stat or two, under the bridge's lock): another process's
      // `network rm` may have put the value back and taken the note away since.
      if (existsSync(found) || (await made())) return;
      const value = (await readFile(setting, 'utf8').catch(() => '')).trim();
      if (value !== '0' && value !== '1') return; // not readable here: nothing to put back
      await mkdir(join(lockDir, 'found-localnet'), { recursive: true, mode: 0o700 });
      await writeFile(found, `${value}\n`, { flag: 'wx' }).catch((err: unknown) => {
        if (errnoCode(err) !== 'EEXIST') throw err;
      });
    },
    async forget() {
      await rm(mark, { force: true });
      const value = (await readFile(found, 'utf8').catch(() => '')).trim();
      if (value === '0' || value === '1') await writeFile(setting, `${value}\n`).catch(() => undefined);
      await rm(found, { force: true });
    },
  };
}
