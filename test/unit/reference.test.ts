import { describe, expect, it } from 'vitest';
import { hasCode } from '../../src/lib/errors.js';
import {
  formatReference,
  isLoopbackRegistry,
  parseReference,
  registryApiHost,
  registryHostname,
} from '../../src/oci/reference.js';

const D = `sha256:${'a'.repeat(64)}`;

describe('parseReference normalises as Docker does', () => {
  it.each([
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['library/busybox', 'docker.io/library/busybox:latest'],
    ['user/app:v1', 'docker.io/user/app:v1'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['index.docker.io/library/busybox', 'docker.io/library/busybox:latest'],
    ['registry-1.docker.io/user/app', 'docker.io/user/app:latest'],
    ['localhost/app', 'localhost/app:latest'],
    ['localhost:5000/app:dev', 'localhost:5000/app:dev'],
    ['127.0.0.1:5000/a/b/c:1.0', '127.0.0.1:5000/a/b/c:1.0'],
    ['[::1]:5000/app', '[::1]:5000/app:latest'],
    ['Example.COM/app', 'example.com/app:latest'],
    [`busybox@${D}`, `docker.io/library/busybox@${D}`],
    [`busybox:1.36@${D}`, `docker.io/library/busybox:1.36@${D}`],
    ['ghcr.io/a-b/c__d.e:tag_1.2-x', 'ghcr.io/a-b/c__d.e:tag_1.2-x'],
  ])('%s → %s', (input, expected) => {
    expect(formatReference(parseReference(input))).toBe(expected);
  });

  it('keeps the parts apart', () => {
    expect(parseReference(`127.0.0.1:5000/x/y:t@${D}`)).toEqual({
      registry: '127.0.0.1:5000',
      repository: 'x/y',
      tag: 't',
      digest: D,
    });
  });
});

describe('parseReference rejects malformed references with ERR_REFERENCE_INVALID', () => {
  it.each([
    ['', 'empty'],
    [' busybox', 'white space'],
    ['BusyBox', 'lowercase'],
    ['busybox:', 'bad tag'],
    ['busybox:-x', 'bad tag'],
    [`busybox:${'t'.repeat(129)}`, 'bad tag'],
    ['busybox@sha256:abc', 'bad digest'],
    ['busybox@md5:' + 'a'.repeat(32), 'bad digest'],
    ['example.com/', 'missing repository'],
    ['example.com:99999/app', 'bad port'],
    ['a//b', 'bad path component'],
    ['app-/x', 'bad path component'],
    ['exa_mple.com/app', 'bad registry host'],
    [`example.com/${'a'.repeat(260)}`, 'longer than'],
  ])('%j (%s)', (input, why) => {
    let caught: unknown;
    try {
      parseReference(input);
    } catch (err) {
      caught = err;
    }
    expect(hasCode(caught, 'ERR_REFERENCE_INVALID')).toBe(true);
    expect((caught as Error).message).toContain(`"${input}"`);
    expect((caught as Error).message).toContain(why);
  });
});

describe('registry hosts', () => {
  it.each([
    ['127.0.0.1:5000', true],
    ['127.8.9.10', true],
    ['localhost:5000', true],
    ['[::1]:5000', true],
    ['128.0.0.1:5000', false],
    ['localhost.example.com', false],
    ['docker.io', false],
  ])('isLoopbackRegistry(%s) = %s', (host, expected) => {
    expect(isLoopbackRegistry(host)).toBe(expected);
  });

  it('maps Docker Hub to its API host and strips ports', () => {
    expect(registryApiHost('docker.io')).toBe('registry-1.docker.io');
    expect(registryApiHost('ghcr.io')).toBe('ghcr.io');
    expect(registryHostname('[::1]:5000')).toBe('::1');
    expect(registryHostname('example.com:443')).toBe('example.com');
  });
});
