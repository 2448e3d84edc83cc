// The old seccomp and AppArmor annotations beside the securityContext fields that replaced them: a
// cluster refuses a pod on create when they differ (validateSeccompAnnotationsAndFields,
// validateAppArmorAnnotationsAndFieldsMatchOnCreate), and takes it when they agree (docker/default
// being runtime/default for seccomp). Regression: berth took every such file, warning only that the
// annotation is ignored.
import { describe, expect, it } from 'vitest';
import { parseFile } from '../../src/manifest/parse.js';

const pod = (annotations: string, spec: string) => `apiVersion: v1
kind: Pod
metadata:
  name: p
  annotations:
${annotations}
spec:
${spec}
`;

const errors = (text: string) =>
  parseFile(text, 'p.yaml')
    .diagnostics.filter((d) => d.code.startsWith('ERR_'))
    .map((d) => `${d.line}:${d.col} ${d.code} ${d.message}`);

const app = (context: string) =>
  `  containers:\n  - name: app\n    image: busybox:1\n    securityContext:\n      ${context}`;

describe('an old security annotation beside its field', () => {
  it('a pod seccomp annotation that differs from the pod seccompProfile is refused at the field', () => {
    const text = pod(
      '    seccomp.security.alpha.kubernetes.io/pod: runtime/default',
      `  securityContext:\n    seccompProfile: {type: Unconfined}\n${app('readOnlyRootFilesystem: true')}`,
    );
    expect(errors(text)).toEqual([
      '9:28 ERR_MANIFEST_INVALID seccompProfile type Unconfined does not match annotation seccomp.security.alpha.kubernetes.io/pod: runtime/default (a cluster rejects a pod whose annotation and field differ: drop the annotation)',
    ]);
  });

  it("a container's seccomp annotation naming another localhost profile is refused at localhostProfile", () => {
    const text = pod(
      '    container.seccomp.security.alpha.kubernetes.io/app: localhost/profiles/a.json',
      app('seccompProfile: {type: Localhost, localhostProfile: profiles/b.json}'),
    );
    expect(errors(text)).toEqual([
      '12:59 ERR_MANIFEST_INVALID seccompProfile localhostProfile does not match annotation container.seccomp.security.alpha.kubernetes.io/app: localhost/profiles/a.json (a cluster rejects a pod whose annotation and field differ: drop the annotation)',
    ]);
  });

  it("an AppArmor annotation naming no profile is compared with the pod's when the container has none", () => {
    const text = pod(
      '    container.apparmor.security.beta.kubernetes.io/app: "localhost/"',
      `  securityContext:\n    appArmorProfile: {type: RuntimeDefault}\n${app('readOnlyRootFilesystem: true')}`,
    );
    expect(errors(text)).toEqual([
      '9:29 ERR_MANIFEST_INVALID appArmorProfile type RuntimeDefault does not match annotation container.apparmor.security.beta.kubernetes.io/app: localhost/ (a cluster rejects a pod whose annotation and field differ: drop the annotation)',
    ]);
  });

  it('an AppArmor annotation whose localhost name a cluster refuses (edge spaces) is compared with the pod profile', () => {
    const text = pod(
      '    container.apparmor.security.beta.kubernetes.io/app: "localhost/ x"',
      `  securityContext:\n    appArmorProfile: {type: RuntimeDefault}\n${app('readOnlyRootFilesystem: true')}`,
    );
    expect(errors(text)).toHaveLength(1);
  });

  it("a valid AppArmor annotation beside only a pod profile is taken: a cluster makes it the container's own first", () => {
    const text = pod(
      '    container.apparmor.security.beta.kubernetes.io/app: localhost/k8s-apparmor-example',
      `  securityContext:\n    appArmorProfile: {type: RuntimeDefault}\n${app('readOnlyRootFilesystem: true')}`,
    );
    expect(errors(text)).toEqual([]);
  });

  it('annotations that agree with their fields are taken (docker/default is runtime/default)', () => {
    const text = pod(
      [
        '    seccomp.security.alpha.kubernetes.io/pod: docker/default',
        '    container.seccomp.security.alpha.kubernetes.io/app: localhost/profiles/audit.json',
        '    container.apparmor.security.beta.kubernetes.io/app: localhost/k8s-apparmor-example',
      ].join('\n'),
      [
        '  securityContext:',
        '    seccompProfile: {type: RuntimeDefault}',
        '    appArmorProfile: {type: Unconfined}',
        '  containers:',
        '  - name: app',
        '    image: busybox:1',
        '    securityContext:',
        '      seccompProfile: {type: Localhost, localhostProfile: profiles/audit.json}',
        '      appArmorProfile: {type: Localhost, localhostProfile: k8s-apparmor-example}',
      ].join('\n'),
    );
    expect(errors(text)).toEqual([]);
  });

  it("a windows pod's AppArmor annotation is not compared", () => {
    const text = pod(
      '    container.apparmor.security.beta.kubernetes.io/app: runtime/default',
      `  os: {name: windows}\n  securityContext:\n    appArmorProfile: {type: Unconfined}\n${app('readOnlyRootFilesystem: true')}`,
    );
    expect(errors(text).filter((e) => e.includes('does not match'))).toEqual([]);
  });
});
