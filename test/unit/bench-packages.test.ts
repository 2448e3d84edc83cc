// Every benchmark installs the Debian packages of the tools it runs (scripts/bench/lib.sh,
// need_packages), so it works on a fresh host: `scripts/bench/pull --unpack` used to stop with
// "needs containerd" where setup had not installed it.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const benchDir = new URL('../../scripts/bench/', import.meta.url).pathname;

/** The Debian package of each command a benchmark may run beside berth. */
const PACKAGE_OF: Record<string, string> = {
  containerd: 'containerd',
  ctr: 'containerd',
  skopeo: 'skopeo',
  umoci: 'umoci',
  pigz: 'pigz',
  zstd: 'zstd',
  curl: 'curl',
  runc: 'runc',
  conmon: 'conmon',
  python3: 'python3',
};

/** What `need_packages ARGS` installs, with lib.sh's arrays expanded. */
function packagesInstalledBy(script: string, lib: string): Set<string> {
  const arrays = new Map<string, string[]>();
  for (const m of lib.matchAll(/^([A-Z_]+)=\(([^)]*)\)/gm))
    arrays.set(m[1] ?? '', (m[2] ?? '').split(/\s+/).filter(Boolean));
  const out = new Set<string>();
  for (const m of script.matchAll(/^\s*need_packages\s+(.*)$/gm)) {
    for (const word of (m[1] ?? '').split(/\s+/)) {
      const array = /^"\$\{([A-Z_]+)\[@\]\}"$/.exec(word);
      for (const p of array ? (arrays.get(array[1] ?? '') ?? [`unknown array ${word}`]) : [word]) out.add(p);
    }
  }
  return out;
}

/** The commands of PACKAGE_OF a script runs (comment lines left out). */
function commandsRunBy(script: string): string[] {
  const code = script
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n');
  return Object.keys(PACKAGE_OF).filter((cmd) =>
    new RegExp(`(^|[\\s(|;&"'])${cmd}([\\s"'|;)]|$)`, 'm').test(code),
  );
}

const lib = readFileSync(join(benchDir, 'lib.sh'), 'utf8');
const scripts = readdirSync(benchDir).filter((f) => !f.includes('.') && statSync(join(benchDir, f)).isFile());

describe('scripts/bench', () => {
  it('has the benchmarks this test knows about', () => {
    expect(scripts.sort()).toEqual([
      'idle',
      'import',
      'probes',
      'pull',
      'reboot',
      'reconcile',
      'scale',
      'start',
    ]);
  });

  for (const name of scripts) {
    it(`${name} installs the packages of every tool it runs, and those make-images.sh needs`, () => {
      const script = readFileSync(join(benchDir, name), 'utf8');
      const installed = packagesInstalledBy(script, lib);
      const needed = new Set(commandsRunBy(script).map((cmd) => PACKAGE_OF[cmd]));
      if (script.includes('make-images.sh') || /^\s*ensure_images\b/m.test(script)) {
        for (const p of [
          'umoci',
          'skopeo',
          'docker-registry',
          'debootstrap',
          'busybox-static',
          'curl',
          'python3',
        ])
          needed.add(p);
      }
      expect([...needed].filter((p) => p !== undefined && !installed.has(p)).sort()).toEqual([]);
    });
  }

  it('pull runs containerd, skopeo, umoci, pigz, zstd and curl', () => {
    const pull = readFileSync(join(benchDir, 'pull'), 'utf8');
    expect(commandsRunBy(pull).sort()).toEqual([
      'containerd',
      'ctr',
      'curl',
      'pigz',
      'python3',
      'skopeo',
      'umoci',
      'zstd',
    ]);
  });
});
