// The pods the fault suite keeps applying: one that never changes (it must never be restarted),
// one whose env is edited (recreate) with a named volume, one with an init container and a memory
// emptyDir (pod setup and teardown), one with two containers that comes and goes (create, remove).
// Every container stops at once on SIGTERM, so removals do not wait out a grace period.
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const LOOP = "trap 'exit 0' TERM; while true; do sleep 1; done";

function pod(name: string, body: string): string {
  return `apiVersion: v1\nkind: Pod\nmetadata: {name: ${name}}\nspec:\n  terminationGracePeriodSeconds: 1\n${body}`;
}

function container(name: string, image: string, script: string, extra = ''): string {
  return (
    `    - name: ${name}\n      image: ${image}\n      imagePullPolicy: IfNotPresent\n` +
    `      command: ["/bin/sh", "-c", ${JSON.stringify(script)}]\n${extra}`
  );
}

export const POD_TEXT = {
  steady: (image: string) => pod('steady', `  containers:\n${container('main', image, LOOP)}`),
  edit: (image: string, version: number) =>
    pod(
      'edit',
      `  containers:\n${container(
        'main',
        image,
        `echo $V >> /data/versions; ${LOOP}`,
        `      env: [{name: V, value: "${version}"}]\n      volumeMounts: [{name: data, mountPath: /data}]\n`,
      )}  volumes:\n    - {name: data, persistentVolumeClaim: {claimName: fault-edit-data}}\n`,
    ),
  prepared: (image: string) =>
    pod(
      'prepared',
      `  initContainers:\n${container('init', image, 'echo ready > /work/ready', '      volumeMounts: [{name: work, mountPath: /work}]\n')}` +
        `  containers:\n${container('main', image, `cat /work/ready; ${LOOP}`, '      volumeMounts: [{name: work, mountPath: /work}]\n')}` +
        '  volumes:\n    - {name: work, emptyDir: {medium: Memory}}\n',
    ),
  extra: (image: string) =>
    pod('extra', `  containers:\n${container('a', image, LOOP)}${container('b', image, LOOP)}`),
};

export type PodName = keyof typeof POD_TEXT;

/** What the folder says: which pods are present and the edit pod's version. */
export interface FolderState {
  present: Set<PodName>;
  version: number;
}

export async function writeFolder(dir: string, image: string, s: FolderState): Promise<void> {
  for (const name of Object.keys(POD_TEXT) as PodName[]) {
    const file = join(dir, `${name}.yaml`);
    if (!s.present.has(name)) await rm(file, { force: true });
    else if (name === 'edit') await writeFile(file, POD_TEXT.edit(image, s.version));
    else await writeFile(file, POD_TEXT[name](image));
  }
}
