// A pod's own resources: its network namespace (`<state>/netns/pod-<name>`, loopback up) and its
// emptyDir volumes (`<root>/pods/<name>/volumes/<volume>`, tmpfs for medium Memory). They outlive
// the pod's containers (a restart keeps them) and go with the pod.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { errnoCode } from '../lib/errors.js';
import { makeDirs } from '../lib/make-dirs.js';
import { createNetns, removeNetns } from '../runtime/netns.js';
import { isMountPoint } from '../runtime/rootfs.js';
import { runTool } from '../runtime/tool.js';
import type { DesiredPod, HostLayout } from './desired.js';

export async function setUpPod(pod: DesiredPod): Promise<void> {
  if (pod.netnsPath && !(await isMountPoint(pod.netnsPath))) {
    await rm(pod.netnsPath, { force: true }); // a file left by a crash, not a namespace
    await createNetns(pod.netnsPath);
  }
  for (const d of pod.createDirs) await makeDirs(d);
  for (const d of pod.podDirs) {
    await makeDirs(d.path);
    if (d.memory && !(await isMountPoint(d.path))) {
      await runTool('mount', ['-t', 'tmpfs', '-o', 'mode=1777', 'tmpfs', d.path], `emptyDir ${d.path}`);
    }
  }
}

export async function tearDownPod(name: string, host: HostLayout): Promise<void> {
  await removeNetns(join(host.netns, `pod-${name}`));
  const volumes = join(host.pods, name, 'volumes');
  for (const v of await readdir(volumes).catch(() => [] as string[])) {
    const path = join(volumes, v);
    if (await isMountPoint(path)) await runTool('umount', [path], `emptyDir ${path}`);
  }
  await rm(join(host.pods, name), { recursive: true, force: true });
}

/** Pods whose resources exist (a netns or a directory). */
export async function podsSetUp(host: HostLayout): Promise<Set<string>> {
  const list = async (dir: string) => {
    try {
      return await readdir(dir);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') return [];
      throw err;
    }
  };
  const netns = (await list(host.netns)).filter((n) => n.startsWith('pod-')).map((n) => n.slice(4));
  return new Set([...netns, ...(await list(host.pods))]);
}
