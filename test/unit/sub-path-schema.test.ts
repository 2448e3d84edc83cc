// subPath and workingDir as the Pod schema and the desired state see them: the schema refuses what
// could leave the volume or reach /proc (at the field's line and column), the same rules hold at
// runtime, and a subPath travels to the runtime apart from its volume's root, never joined onto it.

import { describe, expect, it } from 'vitest';
import { isBerthError } from '../../src/lib/errors.js';
import type { PodManifest } from '../../src/manifest/kinds.js';
import { desiredPod } from '../../src/reconcile/desired.js';
import { checkWorkingDir } from '../../src/runtime/spec.js';
import { subPathComponents } from '../../src/runtime/sub-path.js';
import { podSchemaProblems as problems } from '../helpers/pod-schema.js';

const podText = (subPath: string, workingDir = '/app') =>
  [
    'apiVersion: v1',
    'kind: Pod',
    'metadata: {name: p}',
    'spec:',
    '  containers:',
    '    - name: main',
    '      image: busybox:1',
    `      workingDir: ${JSON.stringify(workingDir)}`,
    '      volumeMounts:',
    `        - {name: v, mountPath: /data, subPath: ${JSON.stringify(subPath)}}`,
    '  volumes: [{name: v, emptyDir: {}}]',
    '',
  ].join('\n');

const SUBPATH_WORDS =
  'must be a relative path inside the volume: no leading /, no "..", "." or empty component';
const WORKDIR_WORDS =
  'must not be /proc or under it (a host file descriptor could leak through /proc/self/fd)';

describe('the schema', () => {
  it.each(['conf', 'a/b', '..a', 'a/..b', 'a..', '.hidden', 'dir with space/x'])(
    'accepts subPath %j',
    (sub) => {
      expect(problems(podText(sub))).toEqual([]);
    },
  );
  it.each([
    '../../../../etc',
    '..',
    'a/..',
    'a/../b',
    '.',
    './a',
    'a/.',
    'a//b',
    '/etc',
    'a/',
    '',
    'a\0b',
    // A line break before the "..": a pattern's "." stops at it (was accepted).
    'a\n/../../etc',
    'a\r/..',
    'a\u2028/../x',
  ])('refuses subPath %j at its line and column', (sub) => {
    expect(problems(podText(sub))).toEqual([
      `p.yaml:10:48: ERR_MANIFEST_SCHEMA: spec.containers.0.volumeMounts.0.subPath ${SUBPATH_WORDS}`,
    ]);
  });
  it.each(['a\n/../../../etc/cron.d/x', '../x', 'a/../../x'])(
    'refuses a configMap item path %j that leaves its volume',
    (path) => {
      const text = podText('ok').replace(
        '  volumes: [{name: v, emptyDir: {}}]',
        `  volumes: [{name: v, configMap: {name: c, items: [{key: k, path: ${JSON.stringify(path)}}]}}]`,
      );
      expect(problems(text).join('\n')).toMatch(/spec\.volumes\.0\.configMap\.items\.0\.path /);
    },
  );
  it.each(['/proc', '/proc/self/fd/7', '/proc/1/fd/3', '//proc/self/cwd', '/./proc/x', '/../proc/x'])(
    'refuses workingDir %j',
    (dir) => {
      expect(problems(podText('ok', dir))).toEqual([
        `p.yaml:8:19: ERR_MANIFEST_SCHEMA: spec.containers.0.workingDir ${WORKDIR_WORDS}`,
      ]);
    },
  );
  // A relative one too: validation.go does not check workingDir, so a cluster takes the file and the
  // runtime fails that container at its start (runc: "Cwd must be an absolute path"); berth's create
  // does the same (below), not the whole file at load.
  it.each(['/', '/app', '/procfs', '/srv/proc', 'app', './src', 'proc', '../proc'])(
    'accepts workingDir %j',
    (dir) => {
      expect(problems(podText('ok', dir))).toEqual([]);
    },
  );
});

describe('a relative workingDir at create', () => {
  it.each(['app', './src', 'proc'])("%j is that container's ERR_CONTAINER_INVALID", (dir) => {
    let err: unknown;
    try {
      checkWorkingDir(dir);
    } catch (e) {
      err = e;
    }
    expect([isBerthError(err) && err.code, (err as Error).message]).toEqual([
      'ERR_CONTAINER_INVALID',
      `working directory "${dir}" is not an absolute path`,
    ]);
  });
});

describe('the runtime rules match', () => {
  const codeOf = (sub: string) => {
    try {
      subPathComponents(sub);
      return 'ok';
    } catch (err) {
      return isBerthError(err) ? err.code : String(err);
    }
  };
  it.each(['../../../../etc', '..', 'a/..', '.', './a', 'a//b', '/etc', 'a/', '', 'a\0b'])(
    'refuses %j',
    (sub) => {
      expect(codeOf(sub)).toBe('ERR_SUBPATH_UNSAFE');
    },
  );
  it.each(['conf', 'a/b', '..a', 'a/..b'])('accepts %j', (sub) => {
    expect(codeOf(sub)).toBe('ok');
  });
});

describe('desired state', () => {
  it('keeps every volume kind at its root and the subPath beside it', () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: {
        containers: [
          {
            name: 'main',
            image: 'busybox:1',
            volumeMounts: [
              { name: 'ed', mountPath: '/a', subPath: 'x/y' },
              { name: 'nv', mountPath: '/b', subPath: 'conf', readOnly: true },
              { name: 'hp', mountPath: '/c', subPath: 'z' },
              { name: 'ed', mountPath: '/d' },
            ],
          },
        ],
        volumes: [
          { name: 'ed', emptyDir: {} },
          { name: 'nv', persistentVolumeClaim: { claimName: 'data' } },
          { name: 'hp', hostPath: { path: '/srv/shared' } },
        ],
      },
    } as unknown as PodManifest;
    const desired = desiredPod(pod, 'p.yaml', { volumes: '/r/volumes', pods: '/r/pods', netns: '/s/netns' });
    expect(desired.containers[0]?.settings.mounts).toEqual([
      { kind: 'bind', source: '/r/pods/p/volumes/ed', destination: '/a', readOnly: false, subPath: 'x/y' },
      { kind: 'volume', source: '/r/volumes/data', destination: '/b', readOnly: true, subPath: 'conf' },
      { kind: 'bind', source: '/srv/shared', destination: '/c', readOnly: false, subPath: 'z' },
      { kind: 'bind', source: '/r/pods/p/volumes/ed', destination: '/d', readOnly: false },
    ]);
  });
});
