// Dispatch: find the command, parse its arguments, run it, and turn any failure into one line on
// stderr and an exit code chosen by the error's kind.
import { BerthError, exitCodeFor, formatErrorLines } from '../lib/errors.js';
import { parseCommandArgs, splitCommandPath } from './args.js';
import type { CliIO, Command } from './command.js';
import { COMMANDS, type CommandEntry } from './commands/index.js';
import { renderCommandHelp, renderGroupHelp, renderMainHelp } from './help.js';
import { VERSION } from './version.js';

export { VERSION };

function findCommand(words: string[]): CommandEntry | undefined {
  return COMMANDS.find((c) => c.path.length === words.length && c.path.every((p, i) => p === words[i]));
}

export async function runCli(argv: readonly string[], io: CliIO, signal: AbortSignal): Promise<number> {
  let command: Command | undefined;
  try {
    const { path, rest } = splitCommandPath(argv, 2);
    const entry = findCommand(path) ?? findCommand(path.slice(0, 1));
    const wantsHelp = rest.includes('--help') || rest.includes('-h');
    if (!entry) {
      if (rest.includes('--version')) {
        io.stdout.write(`berth ${VERSION}\n`);
        return 0;
      }
      const group = path[0];
      if (group && COMMANDS.some((c) => c.path[0] === group) && (path.length === 1 || wantsHelp)) {
        io.stdout.write(renderGroupHelp(group, COMMANDS));
        return path.length === 1 && !wantsHelp ? 2 : 0;
      }
      if (path.length === 0 || wantsHelp) {
        io.stdout.write(renderMainHelp(COMMANDS));
        return path.length === 0 && !wantsHelp ? 2 : 0;
      }
      throw new BerthError('ERR_USAGE', 'invalid', `unknown command "${path.join(' ')}"`, {
        hint: 'see berth --help',
      });
    }
    command = await entry.load();
    // A one-word command may have taken a value as its second word (`daemon --manifests DIR`):
    // split again at the command's own depth, so every argument stays where it was.
    const own = command.path.length === path.length ? rest : splitCommandPath(argv, command.path.length).rest;
    const args = parseCommandArgs(own, command.options, io.env);
    if (args.global.help) {
      io.stdout.write(renderCommandHelp(command));
      return 0;
    }
    const [min, max] = command.args;
    if (args.positionals.length < min || args.positionals.length > max) {
      throw new BerthError('ERR_USAGE', 'invalid', `usage: berth ${command.usage}`);
    }
    // Loaded here, not at the top: `berth --help` and usage errors need none of what it imports.
    const { openContext } = await import('./context.js');
    const opened = openContext(io, args.global, signal);
    try {
      return await command.run(opened.ctx, args);
    } finally {
      await opened.close();
    }
  } catch (err) {
    for (const line of formatErrorLines(err)) io.stderr.write(`berth: ${line}\n`);
    if (io.env.BERTH_DEBUG && err instanceof Error) io.stderr.write(`${err.stack ?? ''}\n`);
    // Cut short by SIGINT/SIGTERM (the error is the abort's, ERR_ABORTED): 130, as a shell says it.
    if (signal.aborted) return 130;
    return command?.failureCode?.(err) ?? exitCodeFor(err);
  }
}
