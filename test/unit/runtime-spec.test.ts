import { describe, expect, it } from 'vitest';
import { isBerthError } from '../../src/lib/errors.js';
import { LINUX_STOP_SIGNALS } from '../../src/manifest/stop-signal-checks.js';
import type { ImageConfig } from '../../src/oci/image.js';
import { conmonArgs, conmonEnv } from '../../src/runtime/conmon.js';
import { DEVICE_RULES } from '../../src/runtime/defaults.js';
import { parseCapBound, parseNofileHard } from '../../src/runtime/host.js';
import { pickApparmorProfile } from '../../src/runtime/host-confinement.js';
import { parseCriLog, partialLines } from '../../src/runtime/log-format.js';
import { parseVolume } from '../../src/runtime/mounts.js';
import { containerPaths, runtimePaths } from '../../src/runtime/paths.js';
import { parseBytes, parseMilliCpus } from '../../src/runtime/quantity.js';
import type { Runc } from '../../src/runtime/runc.js';
import { startTimeOf } from '../../src/runtime/runc-state.js';
import { toOciSeccomp } from '../../src/runtime/seccomp.js';
import { fallbackSeccomp } from '../../src/runtime/seccomp-fallback.js';
import { buildRuntimeSpec, capabilities, processArgs, processEnv } from '../../src/runtime/spec.js';
import { stopSignalFor } from '../../src/runtime/stop-signal.js';
import { resolveUser } from '../../src/runtime/user.js';

const image = (config: ImageConfig['config']): ImageConfig => ({
  config,
  rootfs: { type: 'layers', diff_ids: [] },
});
const codeOf = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    if (isBerthError(err)) return err.code;
    throw err;
  }
  return 'no error';
};

describe('process args and env (image-spec conversion)', () => {
  it.each([
    [{ Entrypoint: ['/ep'], Cmd: ['a'] }, undefined, ['/ep', 'a']],
    [{ Entrypoint: ['/ep'], Cmd: ['a'] }, ['b', 'c'], ['/ep', 'b', 'c']],
    [{ Cmd: ['/bin/sh'] }, ['/bin/echo', 'x'], ['/bin/echo', 'x']],
    [{ Entrypoint: null, Cmd: ['/x'] }, [], ['/x']],
  ])('%j with %j → %j', (config, command, want) => {
    expect(processArgs(image(config), command)).toEqual(want);
  });
  it('refuses an image with nothing to run, naming the image', () => {
    expect(codeOf(() => processArgs(image({}), []))).toBe('ERR_CONTAINER_INVALID');
    expect(() => processArgs(image({}), [], undefined, 'reg.test/app:1')).toThrow(
      'image "reg.test/app:1" has no Entrypoint or Cmd and no command was given',
    );
  });
  it('merges Env by key and fills PATH, HOSTNAME, HOME', () => {
    expect(processEnv(image({ Env: ['A=1', 'B=2'] }), ['B=3', 'C=x=y'], 'web', '/root')).toEqual([
      'A=1',
      'B=3',
      'C=x=y',
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'HOSTNAME=web',
      'HOME=/root',
    ]);
    expect(processEnv(image({ Env: ['PATH=/bin'] }), [], 'w', '/')).toContain('PATH=/bin');
    expect(codeOf(() => processEnv(image({}), ['NOEQUALS'], 'w', '/'))).toBe('ERR_CONTAINER_INVALID');
    // The image's own `NAME` alone unsets it (containerd, Docker): the image still runs.
    expect(processEnv(image({ Env: ['A=1', 'B=2', 'B', 'C'] }), [], 'w', '/')).toEqual([
      'A=1',
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'HOSTNAME=w',
      'HOME=/',
    ]);
  });
});

describe('users from the image', () => {
  const passwd = 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\nbroken line\n';
  const group = 'root:x:0:\napp:x:1000:\nextra:x:2000:app,other\n';
  it.each([
    ['', { uid: 0, gid: 0, additionalGids: [], home: '/root' }],
    ['app', { uid: 1000, gid: 1000, additionalGids: [2000], home: '/home/app' }],
    ['1000:extra', { uid: 1000, gid: 2000, additionalGids: [], home: '/home/app' }],
    ['1000', { uid: 1000, gid: 1000, additionalGids: [2000], home: '/home/app' }],
    // An image's USER with a group keeps the user's groups (Kubernetes' CRI merges them).
    ['app:app', { uid: 1000, gid: 1000, additionalGids: [2000], home: '/home/app' }],
    ['4242', { uid: 4242, gid: 0, additionalGids: [], home: '/' }],
    ['4242:7', { uid: 4242, gid: 7, additionalGids: [], home: '/' }],
  ])('%j', (spec, want) => {
    expect(resolveUser(spec, passwd, group)).toEqual(want);
  });
  it('-u USER:GROUP given to create drops the supplementary groups (runc, Docker)', () => {
    for (const spec of ['app:app', '1000:1000'])
      expect(resolveUser(spec, passwd, group, { groupGivenDropsGroups: true })).toEqual({
        uid: 1000,
        gid: 1000,
        additionalGids: [],
        home: '/home/app',
      });
    expect(resolveUser('app', passwd, group, { groupGivenDropsGroups: true }).additionalGids).toEqual([2000]);
  });
  it('a uid or gid past 32 bits is ERR_USER_INVALID (runc failed on it with a JSON error)', () => {
    for (const spec of ['4294967296', '99999999999999999999999', '0:4294967296', 'app:4294967296'])
      expect(codeOf(() => resolveUser(spec, passwd, group))).toBe('ERR_USER_INVALID');
    expect(resolveUser('4294967295', passwd, group).uid).toBe(4294967295);
  });
  it('a passwd or group entry whose id is past 32 bits is refused as such, not as missing', () => {
    const where = { image: 'img', container: 'c' };
    const messageOf = (spec: string, p: string, g = group) => {
      try {
        resolveUser(spec, p, g, where);
      } catch (err) {
        return `${(err as { code: string }).code}: ${(err as Error).message}`;
      }
      return undefined;
    };
    expect(messageOf('big', 'big:x:4294967296:0::/:/bin/sh\n')).toBe(
      'ERR_USER_INVALID: container "c": user "big" has uid 4294967296 in /etc/passwd of image "img", out of range (at most 4294967295)',
    );
    expect(messageOf('5', 'five:x:5:99999999999999999999999999999::/:/bin/sh\n')).toBe(
      'ERR_USER_INVALID: container "c": user "five" has gid 999999999999999999999999… in /etc/passwd of image "img", out of range (at most 4294967295)',
    );
    expect(messageOf('app:huge', passwd, `${group}huge:x:4294967296:\n`)).toBe(
      'ERR_USER_INVALID: container "c": group "huge" has gid 4294967296 in /etc/group of image "img", out of range (at most 4294967295)',
    );
    // A group past 32 bits that lists the user is not one of its supplementary groups.
    expect(resolveUser('app', passwd, `${group}huge:x:4294967296:app\n`).additionalGids).toEqual([2000]);
  });
  it('names that are not there are errors', () => {
    expect(codeOf(() => resolveUser('ghost', passwd, group))).toBe('ERR_UNKNOWN_USER');
    expect(codeOf(() => resolveUser('app:ghosts', passwd, group))).toBe('ERR_UNKNOWN_GROUP');
    expect(codeOf(() => resolveUser('../x', passwd, group))).toBe('ERR_UNKNOWN_USER');
  });
  it('a group is all after the first colon, as runc reads it: "0:0:0" is group "0:0", not 0', () => {
    expect(() => resolveUser('0:0:0', passwd, group, { image: 'img' })).toThrow(
      'group "0:0" is not in /etc/group of image "img"',
    );
  });
  it('the error names the user, the image and the container, on one line', () => {
    const where = { image: 'registry.local/app:1', container: 'web_main' };
    const messageOf = (spec: string) => {
      try {
        resolveUser(spec, passwd, group, where);
      } catch (err) {
        return (err as Error).message;
      }
      return undefined;
    };
    expect(messageOf('ghost')).toBe(
      'container "web_main": user "ghost" is not in /etc/passwd of image "registry.local/app:1"',
    );
    expect(messageOf('app:ghosts')).toBe(
      'container "web_main": group "ghosts" is not in /etc/group of image "registry.local/app:1"',
    );
  });
});

describe('flags', () => {
  it.each([
    ['64Mi', 64 * 2 ** 20],
    ['1G', 1e9],
    ['1.5Gi', 1.5 * 2 ** 30],
    ['6291456', 6291456],
  ])('memory %s', (text, bytes) => expect(parseBytes(text)).toBe(bytes));
  it.each(['', 'lots', '-1', '0', '12Q', '4096'])('memory %j is refused', (text) => {
    expect(codeOf(() => parseBytes(text))).toBe('ERR_BAD_QUANTITY');
  });
  it('cpus', () => {
    expect([parseMilliCpus('0.5'), parseMilliCpus('250m'), parseMilliCpus('2')]).toEqual([500, 250, 2000]);
    expect(codeOf(() => parseMilliCpus('half'))).toBe('ERR_BAD_QUANTITY');
  });
  it('volumes: host paths, named volumes, modes', () => {
    expect(parseVolume('/srv:/data:ro', '/v')).toEqual({
      kind: 'bind',
      source: '/srv',
      destination: '/data',
      readOnly: true,
    });
    expect(parseVolume('cache:/c', '/v')).toEqual({
      kind: 'volume',
      source: '/v/cache',
      destination: '/c',
      readOnly: false,
    });
    for (const bad of ['nocolon', '/a:relative', 'x:/y:rx', '../up:/y', '/a:/b/../c'])
      expect(codeOf(() => parseVolume(bad, '/v'))).toBe('ERR_CONTAINER_INVALID');
  });
  it('capabilities: the 14 defaults, add and drop by either spelling, or all when privileged', () => {
    expect(capabilities({ name: 'x' })).toHaveLength(14);
    const c = capabilities({ name: 'x', capAdd: ['sys_admin'], capDrop: ['CAP_NET_RAW', 'mknod'] });
    expect(c).toContain('CAP_SYS_ADMIN');
    expect(c).not.toContain('CAP_NET_RAW');
    expect(c).not.toContain('CAP_MKNOD');
    expect(capabilities({ name: 'x', privileged: true }).length).toBeGreaterThan(30);
    expect(codeOf(() => capabilities({ name: 'x', capAdd: ['FLY'] }))).toBe('ERR_CONTAINER_INVALID');
  });
});

describe('the runtime config', () => {
  const host = {
    nofileHard: 20000,
    hostname: '/b/hostname',
    etcHosts: '/b/hosts',
    resolvConf: '/b/resolv.conf',
    cgroupsPath: '/berth/abc',
    netnsPath: '/run/berth/netns/abc',
  };
  const user = { uid: 0, gid: 0, additionalGids: [], home: '/root' };
  it('asks for no more open files than the host allows, an OOM score of its own, and joins the given netns', () => {
    const spec = buildRuntimeSpec(image({ Cmd: ['/bin/sh'] }), { name: 'w' }, user, host) as {
      process: { rlimits: unknown[]; noNewPrivileges: boolean; oomScoreAdj: number };
      linux: { namespaces: unknown[]; maskedPaths: string[] };
      root: { readonly: boolean };
    };
    expect(spec.process.rlimits).toEqual([{ type: 'RLIMIT_NOFILE', hard: 20000, soft: 20000 }]);
    expect(spec.process.noNewPrivileges).toBe(true);
    // Never its creator's (the daemon's -999 under systemd): conmon 2.1.6 resets its child to 0
    // itself, newer conmon restores its own caller's score, runc sets what the spec says.
    expect(spec.process.oomScoreAdj).toBe(0);
    expect(spec.linux.namespaces).toContainEqual({ type: 'network', path: '/run/berth/netns/abc' });
    expect(spec.linux.maskedPaths).toContain('/proc/kcore');
    expect(spec.root.readonly).toBe(false);
  });
  it('host networking joins no network namespace; limits become cgroup resources', () => {
    const spec = buildRuntimeSpec(
      image({ Cmd: ['/bin/sh'] }),
      { name: 'w', network: 'host', resources: { memoryBytes: 1 << 20, milliCpus: 250, pids: 9 } },
      user,
      host,
    ) as { linux: { namespaces: Array<{ type: string }>; resources: object } };
    expect(spec.linux.namespaces.map((n) => n.type)).not.toContain('network');
    expect(spec.linux.resources).toEqual({
      devices: DEVICE_RULES,
      memory: { limit: 1 << 20, swap: 1 << 20 },
      cpu: { period: 100000, quota: 25000 },
      pids: { limit: 9 },
    });
  });
  it('devices: deny everything, then allow only what Docker allows (whole section)', () => {
    const spec = buildRuntimeSpec(image({ Cmd: ['/bin/sh'] }), { name: 'w' }, user, host) as {
      linux: { resources: object };
    };
    expect(spec.linux.resources).toEqual({
      devices: [
        { allow: false, access: 'rwm' },
        { allow: true, type: 'c', access: 'm' },
        { allow: true, type: 'b', access: 'm' },
        { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
        { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
        { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' },
        { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
        { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
        { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
        { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' },
        { allow: true, type: 'c', major: 136, access: 'rwm' },
      ],
    });
  });
  it('namespaces: a cgroup namespace where the host has them (whole section)', () => {
    const ns = (facts: object) =>
      (
        buildRuntimeSpec(image({ Cmd: ['/bin/sh'] }), { name: 'w' }, user, { ...host, ...facts }) as {
          linux: { namespaces: unknown[] };
        }
      ).linux.namespaces;
    expect(ns({ cgroupNamespace: true })).toEqual([
      { type: 'pid' },
      { type: 'ipc' },
      { type: 'uts' },
      { type: 'mount' },
      { type: 'cgroup' },
      { type: 'network', path: '/run/berth/netns/abc' },
    ]);
    expect(ns({ cgroupNamespace: false })).toEqual([
      { type: 'pid' },
      { type: 'ipc' },
      { type: 'uts' },
      { type: 'mount' },
      { type: 'network', path: '/run/berth/netns/abc' },
    ]);
  });
  it('AppArmor: the host profile when given, none when privileged or absent', () => {
    const profileOf = (settings: object, facts: object) =>
      (
        buildRuntimeSpec(image({ Cmd: ['/bin/sh'] }), { name: 'w', ...settings }, user, {
          ...host,
          ...facts,
        }) as {
          process: { apparmorProfile?: string };
        }
      ).process.apparmorProfile;
    expect(profileOf({}, { apparmorProfile: 'containers-default-0.50.1' })).toBe('containers-default-0.50.1');
    expect(profileOf({ privileged: true }, { apparmorProfile: 'docker-default' })).toBeUndefined();
    expect(profileOf({}, {})).toBeUndefined();
  });
  it.each([
    ['/proc/self/fd/7'],
    ['/proc/1/fd/3'],
    ['/proc'],
    ['//proc/self/cwd'],
    ['/./proc/thread-self/fd/4'],
  ])('refuses working directory %s (runc CVE-2024-21626)', (dir) => {
    expect(
      codeOf(() => buildRuntimeSpec(image({ Cmd: ['x'], WorkingDir: dir }), { name: 'w' }, user, host)),
    ).toBe('ERR_WORKDIR_UNSAFE');
    expect(
      codeOf(() => buildRuntimeSpec(image({ Cmd: ['x'] }), { name: 'w', workdir: dir }, user, host)),
    ).toBe('ERR_WORKDIR_UNSAFE');
  });
  it('never binds a volume root in place of a subPath it was not given resolved', () => {
    const mounts = [
      { kind: 'bind' as const, source: '/v', destination: '/d', readOnly: false, subPath: 'x' },
    ];
    expect(codeOf(() => buildRuntimeSpec(image({ Cmd: ['x'] }), { name: 'w', mounts }, user, host))).toBe(
      'ERR_CONTAINER_INVALID',
    );
  });
  it('mounts the container mounts shallowest first, in their given order at one depth', () => {
    const bind = (destination: string, source: string) => ({
      kind: 'bind' as const,
      source,
      destination,
      readOnly: false,
    });
    const mounts = [bind('/data/x', '/a'), bind('/data/', '/b'), bind('/data', '/c'), bind('/srv', '/d')];
    const spec = buildRuntimeSpec(image({ Cmd: ['x'] }), { name: 'w', mounts }, user, host) as {
      mounts: { destination: string; source?: string }[];
    };
    const own = spec.mounts.filter((m) => ['/a', '/b', '/c', '/d'].includes(m.source ?? ''));
    expect(own.map((m) => `${m.destination}<-${m.source}`)).toEqual([
      '/data/<-/b',
      '/data<-/c',
      '/srv<-/d',
      '/data/x<-/a',
    ]);
  });
  it('refuses a relative working directory', () => {
    expect(
      codeOf(() => buildRuntimeSpec(image({ Cmd: ['x'], WorkingDir: 'rel' }), { name: 'w' }, user, host)),
    ).toBe('ERR_CONTAINER_INVALID');
  });
});

describe('image StopSignal as runc can send it', () => {
  it.each([
    [undefined, 'SIGTERM'],
    ['', 'SIGTERM'],
    ['SIGQUIT', 'SIGQUIT'],
    ['quit', 'SIGQUIT'],
    ['SIGPWR', 'SIGPWR'],
    ['SIGIOT', 'SIGABRT'],
    ['SIGPOLL', 'SIGIO'],
    ['SIGCLD', 'SIGCHLD'],
    ['9', 'SIGKILL'],
    ['37', '37'],
    ['SIGRTMIN', '34'],
    ['SIGRTMIN+3', '37'],
    ['RTMIN+3', '37'],
    ['SIGRTMAX-2', '62'],
    ['64', '64'],
  ])('%j → %j', (raw, want) => {
    expect(stopSignalFor(raw, 'img')).toBe(want);
  });
  it.each(['SIGFOO', '0', '65', '-1', 'SIGRTMIN+31', 'SIGRTMAX+1', 'SIGRTMIN-1', 'SIG TERM', '15abc'])(
    'refuses %j',
    (raw) => {
      expect(codeOf(() => stopSignalFor(raw, 'img'))).toBe('ERR_IMAGE_STOPSIGNAL');
    },
  );
});

describe('a manifest stopSignal Kubernetes takes', () => {
  it('is one runc can send, every name of the list (none passes validation to fail at create)', () => {
    const refused = [...LINUX_STOP_SIGNALS].filter((name) => {
      try {
        stopSignalFor(name, 'img');
        return false;
      } catch {
        return true;
      }
    });
    expect(refused).toEqual([]);
  });
});

describe('host facts and formats', () => {
  it('picks the loaded container AppArmor profile, newest podman one first', () => {
    const loaded =
      'docker-default (enforce)\ncontainers-default-0.9.2 (enforce)\ncontainers-default-0.50.1 (enforce)\n/usr/bin/man (enforce)\n';
    expect(pickApparmorProfile('Y\n', loaded)).toBe('containers-default-0.50.1');
    expect(pickApparmorProfile('Y\n', 'docker-default (enforce)\n')).toBe('docker-default');
    expect(pickApparmorProfile('Y\n', '/usr/bin/man (enforce)\n')).toBeUndefined();
    expect(pickApparmorProfile('N\n', loaded)).toBeUndefined();
    expect(pickApparmorProfile('', '')).toBeUndefined();
  });
  it('reads the hard open-files limit', () => {
    expect(
      parseNofileHard('Max cpu time  unlimited  unlimited  seconds\nMax open files  1024  20000  files\n'),
    ).toBe(20000);
  });
  it('joins partial CRI log records and keeps an unfinished line for later', () => {
    const r = parseCriLog('t1 stdout P hel\nt2 stdout F lo\nt3 stderr F oops\nt4 stdout F unfin');
    expect(r.lines).toEqual([
      { time: 't2', stream: 'stdout', text: 'hello' },
      { time: 't3', stream: 'stderr', text: 'oops' },
    ]);
    expect(r.rest.toString()).toBe('t4 stdout F unfin');
  });
  it('keeps a character conmon cut between two records, or a read cut, whole (was two U+FFFD)', () => {
    const e = Buffer.from('é'); // two bytes: conmon's buffer can end between them
    const cut = Buffer.concat([
      Buffer.from('t1 stdout P caf'),
      e.subarray(0, 1),
      Buffer.from('\nt2 stdout F '),
      e.subarray(1),
      Buffer.from('!\n'),
    ]);
    expect(parseCriLog(cut).lines).toEqual([{ time: 't2', stream: 'stdout', text: 'café!' }]);
    // A read that ends inside a character: the rest is carried as bytes into the next read's.
    const whole = Buffer.from('t1 stdout F naïve ☃\n');
    for (let at = 1; at < whole.length; at++) {
      const first = parseCriLog(whole.subarray(0, at));
      const second = parseCriLog(Buffer.concat([first.rest, whole.subarray(at)]), first.pending);
      expect([...first.lines, ...second.lines], `cut at ${at}`).toEqual([
        { time: 't1', stream: 'stdout', text: 'naïve ☃' },
      ]);
    }
    // A partial line shown after the container ended: decoded whole too.
    const partial = parseCriLog(
      Buffer.concat([
        Buffer.from('t3 stderr P '),
        e.subarray(0, 1),
        Buffer.from('\nt4 stderr P '),
        e.subarray(1),
        Buffer.from('\n'),
      ]),
    );
    expect(partialLines(partial.pending)).toEqual([
      { time: 't4', stream: 'stderr', text: 'é', partial: true },
    ]);
  });
  it("joins each stream's parts apart, and keeps what has no newline yet as a partial line", () => {
    const r = parseCriLog('t1 stdout P Enter: \nt2 stderr F err\nt3 stdout P more\n');
    expect(r.lines).toEqual([{ time: 't2', stream: 'stderr', text: 'err' }]);
    expect(partialLines(r.pending)).toEqual([
      { time: 't3', stream: 'stdout', text: 'Enter: more', partial: true },
    ]);
    const next = parseCriLog('t4 stderr P half\nt5 stdout F !\n', r.pending);
    expect(next.lines).toEqual([{ time: 't5', stream: 'stdout', text: 'Enter: more!' }]);
    expect(partialLines(next.pending)).toEqual([
      { time: 't4', stream: 'stderr', text: 'half', partial: true },
    ]);
  });
  it('keeps the lines a terminal writes, ending in \\r (regression: a tty container logged nothing)', () => {
    const r = parseCriLog('t1 stdout F out-is-a-tty\r\nt2 stdout P a\rb\nt3 stdout F c\r\n');
    expect(r.lines).toEqual([
      { time: 't1', stream: 'stdout', text: 'out-is-a-tty\r' },
      { time: 't3', stream: 'stdout', text: 'a\rbc\r' },
    ]);
  });
  it('a terminal for a tty container: process.terminal and conmon --terminal', () => {
    const user = { uid: 0, gid: 0, additionalGids: [], home: '/root' };
    const host = { nofileHard: 20000, hostname: '/h', etcHosts: '/e', resolvConf: '/r', cgroupsPath: '/c' };
    const terminal = (tty?: boolean) =>
      (
        buildRuntimeSpec(image({ Cmd: ['/bin/sh'] }), { name: 'w', ...(tty ? { tty } : {}) }, user, host) as {
          process: { terminal: boolean };
        }
      ).process.terminal;
    expect([terminal(true), terminal()]).toEqual([true, false]);
    const args = (terminal?: boolean) =>
      conmonArgs({
        id: 'abc',
        name: 'w',
        paths: containerPaths(runtimePaths('/r', '/s'), 'abc'),
        runtime: runtimePaths('/r', '/s'),
        runc: { bin: 'runc', root: '/s/runc' } as Runc,
        logSizeMax: 1,
        ...(terminal ? { terminal } : {}),
      }).filter((a) => a === '--terminal');
    expect([args(true), args()]).toEqual([['--terminal'], []]);
  });
  it("conmon's TMPDIR (where it binds a terminal's console socket) is the container's bundle, by its full path or as conmon's working directory", () => {
    expect(conmonEnv('/var/lib/berth/containers/abc')).toEqual({ TMPDIR: '/var/lib/berth/containers/abc' });
    // `<dir>/conmon-term.XXXXXX` must fit sun_path (107 bytes): a bundle too deep is `.`, where
    // conmon and runc both work, never a directory other creates share.
    const fits = `/${'s'.repeat(107 - '/conmon-term.XXXXXX'.length - 1)}`;
    expect(conmonEnv(fits)).toEqual({ TMPDIR: fits });
    expect(conmonEnv(`${fits}x`)).toEqual({ TMPDIR: '.' });
    expect(conmonEnv(`/${'é'.repeat(44)}`)).toEqual({ TMPDIR: '.' }); // bytes, not characters
  });
  it('keeps seccomp rules whose capabilities and architecture match', () => {
    const profile = {
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 38,
      archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86'] }],
      syscalls: [
        { names: ['read'], action: 'SCMP_ACT_ALLOW' },
        { names: ['mount'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } },
        { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64'] } },
        { names: ['s390_thing'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['s390x'] } },
        { names: ['ptrace'], action: 'SCMP_ACT_ALLOW', excludes: { caps: ['CAP_SYS_PTRACE'] } },
      ],
    };
    const out = toOciSeccomp(profile, 'x64', ['CAP_CHOWN']) as {
      architectures: string[];
      syscalls: Array<{ names: string[] }>;
    };
    expect(out.architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86']);
    expect(out.syscalls.map((s) => s.names[0])).toEqual(['read', 'arch_prctl', 'ptrace']);
  });
});

describe("berth's own seccomp filter and the host's capability bound", () => {
  it('refuses host-only syscalls unless a capability unlocks them', () => {
    const plain = fallbackSeccomp('x64', capabilities({ name: 'x' })) as {
      defaultAction: string;
      syscalls: Array<{ names: string[]; args?: unknown[] }>;
    };
    expect(plain.defaultAction).toBe('SCMP_ACT_ALLOW');
    const refused = plain.syscalls[0]?.names ?? [];
    for (const name of ['mount', 'init_module', 'reboot', 'bpf', 'ptrace', 'keyctl', 'unshare', 'setns']) {
      expect(refused).toContain(name);
    }
    expect(plain.syscalls.filter((r) => r.names[0] === 'clone')).toHaveLength(7); // one per namespace flag
    const admin = fallbackSeccomp(
      'x64',
      capabilities({ name: 'x', capAdd: ['SYS_ADMIN', 'SYS_PTRACE'] }),
    ) as typeof plain;
    expect(admin.syscalls[0]?.names).not.toContain('mount');
    expect(admin.syscalls[0]?.names).not.toContain('ptrace');
    expect(admin.syscalls[0]?.names).toContain('reboot');
    expect(admin.syscalls.filter((r) => r.names[0] === 'clone')).toHaveLength(0);
  });
  it('asks for no capability outside the bounding set', () => {
    const bound = parseCapBound('Name:\tx\nCapBnd:\t000001fffeffffff\n'); // no CAP_SYS_RESOURCE (24)
    const all = capabilities({ name: 'x', privileged: true }, bound);
    expect(all).not.toContain('CAP_SYS_RESOURCE');
    expect(all).toHaveLength(40);
    expect(codeOf(() => capabilities({ name: 'x', capAdd: ['SYS_RESOURCE'] }, bound))).toBe(
      'ERR_CONTAINER_INVALID',
    );
    expect(capabilities({ name: 'x' }, bound)).toHaveLength(14);
  });
});

describe('live state from /proc', () => {
  it('reads the start time after the command name, whatever the name holds', () => {
    const stat =
      '4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 1750102 1000 200';
    expect(startTimeOf(stat)).toBe(1750102);
  });
});
