import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BerthError } from '../../lib/errors.js';
import { containerStatus, findContainer } from '../../runtime/containers.js';
import type { Command } from '../command.js';

export const containerExec: Command = {
  path: ['container', 'exec'],
  summary:
    "Run a command in a running container (its user, env and working directory); exit with the command's code",
  usage: 'container exec NAME -- CMD [ARGS...]',
  options: {},
  flags: [],
  args: [1, 1],
  async run(ctx, { positionals, passthrough }) {
    if (passthrough.length === 0) {
      throw new BerthError('ERR_USAGE', 'invalid', 'no command given', {
        hint: 'container exec NAME -- CMD',
      });
    }
    const rt = await ctx.runtime();
    const record = await findContainer(rt, positionals[0] as string);
    if ((await containerStatus(rt, record)).state !== 'running') {
      throw new BerthError(
        'ERR_CONTAINER_NOT_RUNNING',
        'conflict',
        `container "${record.name}" is not running`,
      );
    }
    // runc's own messages go to a log of their own, so the command's stderr is only the command's
    // and a failure of runc is one berth line, not runc's log format.
    const logDir = await mkdtemp(join(tmpdir(), 'berth-exec-'));
    const log = join(logDir, 'runc.log');
    const held: Buffer[] = [];
    try {
      const code = await new Promise<number>((resolve, reject) => {
        const child = spawn(
          rt.runc.bin,
          ['--root', rt.runc.root, '--log', log, '--log-format', 'json', 'exec', record.id, ...passthrough],
          { stdio: ['inherit', 'pipe', 'pipe'] },
        );
        child.stdout.pipe(ctx.stdout, { end: false });
        // runc also prints its failure to stderr, after its log: held back (said as one berth line
        // below); the command never ran then, so nothing of its own is held.
        let lineStart = true;
        child.stderr.on('data', (chunk: Buffer) => {
          if (lineStart && chunk.subarray(0, RUNC_FAILED.length).equals(RUNC_FAILED)) held.push(chunk);
          else ctx.stderr.write(chunk);
          lineStart = chunk[chunk.length - 1] === 0x0a;
        });
        child.once('error', (err) =>
          reject(
            new BerthError('ERR_RUNC', 'internal', `exec in ${record.name}: ${err.message}`, { cause: err }),
          ),
        );
        child.once('close', (c, signal) =>
          resolve(c ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1)),
        );
      });
      const said = runcError(await readFile(log, 'utf8').catch(() => ''));
      if (said === undefined) {
        for (const chunk of held) ctx.stderr.write(chunk);
        return code;
      }
      if (/exec: "[^"]*": (executable file not found|no such file or directory)/.test(said)) {
        ctx.stderr.write(
          `berth: ERR_COMMAND_NOT_FOUND: "${passthrough[0]}" is not an executable in ${record.name}\n`,
        );
        return 127;
      }
      throw new BerthError('ERR_RUNC', 'internal', `exec in ${record.name}: ${said}`);
    } finally {
      await rm(logDir, { recursive: true, force: true });
    }
  },
};

/** How runc's failure to start the process begins, on its stderr. */
const RUNC_FAILED = Buffer.from('exec failed: ');

/** The last error runc logged (its JSON log lines), if any. */
function runcError(text: string): string | undefined {
  let last: string | undefined;
  for (const line of text.split('\n')) {
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string };
      if (entry.level === 'error' && entry.msg) last = entry.msg;
    } catch {
      // not a JSON line
    }
  }
  return last;
}
