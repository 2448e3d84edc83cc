// A container's termination message (Kubernetes terminationMessagePath): berth binds a file of its
// own, `<persist>/termination-log`, at that path, and reads it once the container has exited. The
// container writes it, so it is hostile input: opened without following a symlink, only a regular
// file, at most 4 KiB read (the kubelet's bound), control characters but newline and tab shown as
// `?` (a message never drives the terminal that prints `ps`).
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ContainerMount } from './spec.js';

export const TERMINATION_MESSAGE_MAX = 4096;
const FILE = 'termination-log';

/** Makes the empty file (any user in the container may write it) and the mount that binds it. */
export async function terminationMessageMount(persist: string, destination: string): Promise<ContainerMount> {
  const source = join(persist, FILE);
  await writeFile(source, '', { mode: 0o666 });
  await chmod(source, 0o666); // the umask never decides whether a non-root container may write it
  return { kind: 'bind', source, destination, readOnly: false };
}

/** What the container wrote, bounded and made printable; undefined when nothing (or no file). */
export function readTerminationMessage(persist: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(join(persist, FILE), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
  try {
    if (!fstatSync(fd).isFile()) return undefined;
    const buf = Buffer.alloc(TERMINATION_MESSAGE_MAX);
    const n = readSync(fd, buf, 0, TERMINATION_MESSAGE_MAX, 0);
    const text = printable(buf.subarray(0, n).toString('utf8'));
    return text === '' ? undefined : text;
  } finally {
    closeSync(fd);
  }
}

export function printable(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '?');
}
