import { stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { formatDiagnostic } from '../../lib/yaml-validate.js';
import { loadManifests } from '../../manifest/load.js';
import { isError } from '../../manifest/severity.js';
import { desiredState } from '../../reconcile/desired.js';
import type { Command } from '../command.js';
import { renderJson } from '../output.js';

export const validate: Command = {
  path: ['validate'],
  summary:
    'Check a folder of manifests, or one file: every problem of every file, as FILE:LINE:COL: CODE: message',
  usage: 'validate DIR|FILE',
  options: {},
  flags: [],
  args: [1, 1],
  async run(ctx, { positionals }) {
    const path = positionals[0] as string;
    // A path that is there and not a folder is one file, read alone; anything else is a folder,
    // whose load says what is wrong with it.
    const isFile = await stat(path).then(
      (s) => !s.isDirectory(),
      () => false,
    );
    const result = isFile
      ? await loadManifests(dirname(path), { only: basename(path) })
      : await loadManifests(path);
    // What passes the loader but desired state cannot build (an expansion past its bound) is a
    // problem of its file here too, as plan and apply report it. The layout only names paths: no
    // host is read.
    const built = desiredState(result.docs, { volumes: '/volumes', pods: '/pods', netns: '/netns' });
    const diagnostics = [...result.diagnostics, ...(built.unusable ?? []).map((u) => u.diagnostic)];
    const pods = result.docs.filter((d) => d.doc.kind === 'Pod').length;
    const images = result.docs.filter((d) => d.doc.kind === 'Image').length;
    const errorList = diagnostics.filter(isError);
    const errors = errorList.length;
    // Files with an error of their own or one across files (a duplicate name): brokenFiles has only the first.
    const filesWithErrors = new Set(errorList.map((d) => d.file)).size;
    if (ctx.flags.output === 'json') {
      ctx.stdout.write(
        renderJson({
          files: result.files,
          pods,
          images,
          brokenFiles: [
            ...new Set([...result.brokenFiles, ...(built.unusable ?? []).map((u) => u.diagnostic.file)]),
          ],
          diagnostics,
        }),
      );
    } else {
      for (const d of diagnostics) ctx.stderr.write(`${formatDiagnostic(d)}\n`);
      const summary = `${result.files.length} file(s), ${pods} pod(s), ${images} image(s)`;
      ctx.stdout.write(
        errors === 0
          ? `${summary}: valid${diagnostics.length > 0 ? ` (${diagnostics.length} warning(s))` : ''}\n`
          : `${summary}; ${errors} problem(s) in ${filesWithErrors} file(s)\n`,
      );
    }
    return errors === 0 ? 0 : 2;
  },
};
