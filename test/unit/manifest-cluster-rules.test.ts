// Rules a cluster applies that berth applied otherwise (each failed before its fix): hugepages of a
// fraction of a byte, rounded up as Quantity.Value() rounds them, then checked against the page size;
// an emptyDir of medium HugePages, refused naming its volume where the schema said only "must be one
// of"; annotations past 256 KiB together (TotalAnnotationSizeLimitB), refused for every kind; two
// mountPaths that differ as written (`/data`, `/data/`), which a cluster takes: a warning, not an
// error.
import { describe, expect, it } from 'vitest';
import { formatDiagnostic } from '../../src/lib/yaml-validate.js';
import { parseFile } from '../../src/manifest/parse.js';

const lines = (text: string) => parseFile(text, 'm.yaml').diagnostics.map(formatDiagnostic);
const usable = (text: string) => parseFile(text, 'm.yaml').parsed.length > 0;

const pod = (container: string, spec = '', metadata = '') =>
  `apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n${metadata}spec:\n${spec}  containers:\n  - name: c\n    image: busybox\n${container}`;
const hugepages = (value: string) =>
  pod(`    resources:\n      limits: {memory: 1Gi, hugepages-2Mi: "${value}"}\n`);
const IGNORED =
  'is ignored: berth limits cpu and memory only (no ephemeral-storage accounting, hugepages or device plugins)';

describe('hugepages: the value rounded up to a byte, then a whole number of pages', () => {
  it('refuses a fraction of a byte whose rounding is no whole number of pages', () => {
    expect(lines(hugepages('2.0000001Mi'))).toEqual([
      'm.yaml:10:44: ERR_MANIFEST_INVALID: spec.containers.0.resources.limits.hugepages-2Mi: 2.0000001Mi is not a whole number of 2Mi pages (2097153 bytes, rounded up as a cluster reads it), as a cluster requires',
    ]);
    expect(lines(hugepages('0.5'))[0]).toContain(
      '0.5 is not a whole number of 2Mi pages (1 bytes, rounded up',
    );
    expect(lines(hugepages('3m'))[0]).toContain('3m is not a whole number of 2Mi pages');
  });

  it('takes one that rounds up to whole pages, as a cluster does, and whole ones as before', () => {
    for (const value of ['2097151.5', '4194303.0001', '4Mi', '0'])
      expect(lines(hugepages(value))).toEqual([
        `m.yaml:10:44: WARN_MANIFEST_IGNORED: spec.containers.0.resources.limits.hugepages-2Mi ${IGNORED}`,
      ]);
    expect(lines(hugepages('3Mi'))[0]).toContain(
      '3Mi is not a whole number of 2Mi pages, as a cluster requires',
    );
  });
});

describe('an emptyDir of medium HugePages', () => {
  it('is refused naming the file and the volume, once (no schema line beside it)', () => {
    for (const medium of ['HugePages', 'HugePages-2Mi', 'HugePages-1Gi']) {
      const text = pod('', `  volumes:\n  - name: huge\n    emptyDir:\n      medium: ${medium}\n`);
      expect(lines(text)).toEqual([
        `m.yaml:9:7: ERR_MANIFEST_UNSUPPORTED: emptyDir huge: medium ${medium} (a hugetlbfs mount) is not supported: berth gives a pod no hugepages (hugepages-<size> resources are ignored); leave medium out for a directory on disk, or use Memory for a tmpfs`,
      ]);
      expect(usable(text)).toBe(false);
    }
  });

  it('leaves other media to the schema', () => {
    expect(lines(pod('', '  volumes:\n  - {name: m, emptyDir: {medium: Memory}}\n'))).toEqual([]);
    expect(lines(pod('', '  volumes:\n  - {name: m, emptyDir: {medium: Disk}}\n'))).toEqual([
      'm.yaml:7:34: ERR_MANIFEST_SCHEMA: spec.volumes.0.emptyDir.medium must be one of "", Memory',
    ]);
  });
});

describe('annotations: at most 262144 bytes of keys and values together', () => {
  const annotated = (bytes: number) => `  annotations:\n    k: "${'v'.repeat(bytes - 1)}"\n`;

  it('takes them at the bound and refuses one byte more, in a Pod and in a ConfigMap', () => {
    expect(lines(pod('', '', annotated(262_144)))).toEqual([]);
    expect(lines(pod('', '', annotated(262_145)))).toEqual([
      'm.yaml:6:5: ERR_MANIFEST_INVALID: metadata.annotations are 262145 bytes (keys and values together), more than the 262144 a cluster takes (it rejects the object too)',
    ]);
    const configMap = (bytes: number) =>
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n${annotated(bytes)}data: {a: b}\n`;
    expect(lines(configMap(262_144))).toEqual([]);
    expect(usable(configMap(262_145))).toBe(false);
  });

  it('counts bytes, and aliased values as a cluster decodes them', () => {
    const wide = `  annotations:\n    k: "${'é'.repeat(131_072)}"\n`; // 1 + 262,144 bytes
    expect(lines(pod('', '', wide))[0]).toContain('are 262145 bytes');
    const aliased = `  annotations:\n    a: &v "${'v'.repeat(131_071)}"\n    b: *v\n    c: x\n`;
    expect(lines(pod('', '', aliased))[0]).toContain('are 262146 bytes');
  });
});

describe('two mountPaths in a container', () => {
  const mounts = (a: string, b: string) =>
    pod(
      `    volumeMounts: [{name: a, mountPath: ${a}}, {name: b, mountPath: ${b}}]\n`,
      '  volumes: [{name: a, emptyDir: {}}, {name: b, emptyDir: {}}]\n',
    );

  it('written alike is refused, as a cluster refuses it', () => {
    expect(lines(mounts('/data', '/data'))).toEqual([
      'm.yaml:10:70: ERR_MANIFEST_INVALID: container c mounts two volumes at /data: the later would hide the earlier (a cluster rejects it too)',
    ]);
  });

  it('written differently for one path (/data, /data/, /data/.) is taken, as a cluster takes it, with a warning', () => {
    for (const b of ['/data/', '/data/.', '//data']) {
      const text = mounts('/data', b);
      expect(lines(text)).toEqual([
        `m.yaml:10:70: WARN_MOUNT_HIDDEN: container c mounts volume b at ${b}, the path of /data (volume a): a cluster takes both, and berth mounts both in order, as containerd and runc do: b over a, which it hides`,
      ]);
      expect(usable(text)).toBe(true);
    }
  });
});

describe('a request above its limit, compared exactly as Quantity.Cmp compares', () => {
  const res = (limit: string, request: string) =>
    pod(`    resources:\n      limits: {cpu: "${limit}"}\n      requests: {cpu: "${request}"}\n`);
  it('refuses a request too large for the host beside a limit of 0, and one a millicpu can not tell', () => {
    // Seen by the manifest property test (seed 321696): the pod loaded, then could not be used.
    expect(lines(res('+00', '+64G'))).toEqual([
      'm.yaml:11:23: ERR_MANIFEST_INVALID: cpu request +64G is more than its limit +00 (a cluster rejects it too)',
    ]);
    expect(usable(res('+00', '+64G'))).toBe(false);
    expect(lines(res('1', '1.0001'))[0]).toContain('cpu request 1.0001 is more than its limit 1');
  });
  it('takes a request equal to its limit however written', () => {
    for (const [limit, request] of [
      ['1', '1000m'],
      ['500m', '0.5'],
      ['2', '2e0'],
    ] as const)
      expect(lines(res(limit, request))).toEqual([]);
  });
});
