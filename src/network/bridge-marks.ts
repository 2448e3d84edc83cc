// Which bridges berth made: only those does `berth network rm` delete. A bridge that was there
// before the network's first attach (docker0, virbr0, one an administrator set up and named in the
// host config) keeps existing after berth's rules go. The marks are host-wide, as bridges are, under
// the network lock directory on /run: a reboot takes them with the bridges.
import { existsSync } from 'node:fs';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface BridgeMarks {
  /** Whether the bridge does not exist (the next attach makes it). */
  absent(): boolean;
  /** Marks the bridge as berth's (just before the plugin makes it). */
  note(): Promise<void>;
  made(): Promise<boolean>;
  forget(): Promise<void>;
}

export function bridgeMarksOf(bridge: string, lockDir: string, sysNet = '/sys/class/net'): BridgeMarks {
  const mark = join(lockDir, 'made-bridges', bridge);
  return {
    absent: () => !existsSync(join(sysNet, bridge)),
    async note() {
      await mkdir(join(lockDir, 'made-bridges'), { recursive: true, mode: 0o700 });
      await writeFile(mark, '');
    },
    made: () =>
      stat(mark).then(
        () => true,
        () => false,
      ),
    forget: () => rm(mark, { force: true }),
  };
}
