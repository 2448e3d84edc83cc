// A real CNCF distribution registry (Debian's docker-registry) on a random loopback port with its
// own temp storage, for one test file. stop() ends exactly the process it started; a registry still
// running when its test file is done (a caller that forgot, a setup that failed before handing it
// on) is stopped then, by an afterAll of the file's own that importing this module registers.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { freePort } from './free-port.js';

export interface TestRegistry {
  host: string;
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** The stop of each registry still running (a module per test file: vitest isolates files). */
const running = new Set<() => Promise<void>>();

// At the top level, so on the importing file's own suite: it runs after every other hook of the file.
afterAll(async () => {
  for (const stop of [...running]) await stop();
});

async function waitUp(url: string, child: ChildProcess): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) return false;
    try {
      const res = await fetch(`${url}/v2/`);
      if (res.status === 200) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

/** `foreignUrls`: accept manifests whose foreign / non-distributable layers list loopback `urls`. */
export async function startRegistry(options: { foreignUrls?: boolean } = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-registry-'));
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const host = `127.0.0.1:${port}`;
    const config = join(dir, 'config.yml');
    await writeFile(
      config,
      [
        'version: 0.1',
        'log: { level: error, accesslog: { disabled: true } }',
        `storage: { filesystem: { rootdirectory: ${join(dir, 'data')} }, delete: { enabled: true } }`,
        `http: { addr: "${host}" }`,
        ...(options.foreignUrls
          ? ["validation: { manifests: { urls: { allow: ['^http://127\\.0\\.0\\.1:'] } } }"]
          : []),
        '',
      ].join('\n'),
    );
    const child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const url = `http://${host}`;
    if (await waitUp(url, child)) {
      const stop = async () => {
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise((r) => child.once('exit', r));
          child.kill('SIGTERM');
          await exited;
        }
        await rm(dir, { recursive: true, force: true });
        running.delete(stop);
      };
      running.add(stop);
      return { host, url, pid: child.pid as number, stop };
    }
    child.kill('SIGKILL');
    if (attempt === 4) {
      await rm(dir, { recursive: true, force: true });
      throw new Error(`docker-registry did not start: ${stderr.slice(-500)}`);
    }
  }
  throw new Error('unreachable');
}
