// A volume item's path and a mount's subPath written with `./`, `//` or a trailing `/`: a cluster
// takes them (validation.go refuses only an absolute path, a `..` component and an item path
// starting with `..`) and the kubelet cleans them, so berth does too (clean-paths.ts): the pod loads
// with the clean paths, a subPath of `.` is the whole volume. Regression: berth refused each as "no
// '.' or empty component". What a cluster refuses is still refused.
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/lib/yaml-validate.js';
import type { PodManifest } from '../../src/manifest/kinds.js';
import { parseFile } from '../../src/manifest/parse.js';

const pod = (mounts: string, items: string) => `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: main
    image: busybox:1
    volumeMounts:
${mounts}
  volumes:
  - name: cfg
    configMap:
      name: settings
      items:
${items}
  - name: data
    emptyDir: {}
  - name: info
    projected:
      sources:
      - downwardAPI:
          items: [{path: ./meta//labels, fieldRef: {fieldPath: metadata.labels}}]
`;

describe('volume paths with . and empty components', () => {
  it('load, cleaned as the kubelet cleans them', () => {
    const r = parseFile(
      pod(
        [
          '    - {name: cfg, mountPath: /etc/app}',
          '    - {name: cfg, mountPath: /etc/one/app.conf, subPath: ./app.conf}',
          '    - {name: data, mountPath: /data, subPath: cache//sub/}',
          '    - {name: data, mountPath: /all, subPath: ./}',
          '    - {name: info, mountPath: /info}',
        ].join('\n'),
        [
          '      - {key: app.conf, path: ./app.conf}',
          '      - {key: b, path: conf//b.conf}',
          '      - {key: c, path: dir/}',
        ].join('\n'),
      ),
      'p.yaml',
    );
    expect(r.diagnostics.map(formatDiagnostic)).toEqual([]);
    const spec = (r.parsed[0]?.value as PodManifest | undefined)?.spec;
    expect(spec?.containers[0]?.volumeMounts?.map((m) => m.subPath)).toEqual([
      undefined,
      'app.conf',
      'cache/sub',
      undefined,
      undefined,
    ]);
    expect(spec?.volumes?.[0]?.configMap?.items?.map((i) => i.path)).toEqual([
      'app.conf',
      'conf/b.conf',
      'dir',
    ]);
    expect(spec?.volumes?.[2]?.projected?.sources[0]?.downwardAPI?.items?.[0]?.path).toBe('meta/labels');
  });

  it('what a cluster refuses is still refused: .. anywhere, a leading /, an item path of . or ..x', () => {
    const r = parseFile(
      pod(
        [
          '    - {name: data, mountPath: /a, subPath: ./x/../y}',
          '    - {name: data, mountPath: /b, subPath: /abs}',
        ].join('\n'),
        ['      - {key: a, path: ./}', '      - {key: b, path: ..b}', '      - {key: c, path: a/../b}'].join(
          '\n',
        ),
      ),
      'p.yaml',
    );
    expect(r.diagnostics.map((d) => `${d.line}:${d.code}`)).toEqual([
      '9:ERR_MANIFEST_SCHEMA',
      '10:ERR_MANIFEST_SCHEMA',
      '16:ERR_MANIFEST_SCHEMA',
      '17:ERR_MANIFEST_SCHEMA',
      '18:ERR_MANIFEST_SCHEMA',
    ]);
  });
});
