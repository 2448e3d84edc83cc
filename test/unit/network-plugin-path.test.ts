// The PATH an IPv4-only network's plugins run with: a directory holding only `iptables`, a link to
// the host's, made once, repaired when it points elsewhere (a planted link or file is replaced,
// never followed), shared by concurrent makers.
import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ipv4OnlyPluginPath } from '../../src/network/plugin-path.js';
import { findOnPath } from '../../src/runtime/tool.js';

const iptables = findOnPath('iptables');

describe.skipIf(iptables === 'iptables')('plugin PATH of an IPv4-only network', () => {
  let lockDir: string;
  beforeEach(async () => {
    lockDir = await mkdtemp(join(tmpdir(), 'berth-plugin-path-'));
  });
  afterEach(async () => {
    await rm(lockDir, { recursive: true, force: true });
  });

  it('holds iptables alone, linked to the host one; a second call finds it as it is', async () => {
    const dir = await ipv4OnlyPluginPath(lockDir);
    expect(dir).toBe(join(lockDir, 'ipv4-plugin-path'));
    expect(readdirSync(dir as string)).toEqual(['iptables']);
    expect(readlinkSync(join(dir as string, 'iptables'))).toBe(iptables);
    expect(await ipv4OnlyPluginPath(lockDir)).toBe(dir);
    expect(readdirSync(dir as string)).toEqual(['iptables']);
  });

  it('a link planted to elsewhere, or a file, is replaced; concurrent makers agree', async () => {
    const dir = (await ipv4OnlyPluginPath(lockDir)) as string;
    await rm(join(dir, 'iptables'));
    await symlink('/bin/sh', join(dir, 'iptables'));
    await ipv4OnlyPluginPath(lockDir);
    expect(readlinkSync(join(dir, 'iptables'))).toBe(iptables);
    await rm(join(dir, 'iptables'));
    await writeFile(join(dir, 'iptables'), '#!/bin/sh\n');
    await ipv4OnlyPluginPath(lockDir);
    expect(lstatSync(join(dir, 'iptables')).isSymbolicLink()).toBe(true);
    await rm(join(dir, 'iptables'));
    await Promise.all([1, 2, 3, 4].map(() => ipv4OnlyPluginPath(lockDir)));
    expect(readdirSync(dir)).toEqual(['iptables']);
    expect(readlinkSync(join(dir, 'iptables'))).toBe(iptables);
  });
});
