import { type ExportFormat, exportImages } from '../../archive/export-images.js';
import { BerthError } from '../../lib/errors.js';
import type { Command } from '../command.js';
import { formatSize, renderJson } from '../output.js';

export const imageExport: Command = {
  path: ['image', 'export'],
  summary: 'Write images of the store to an OCI archive (or a docker archive)',
  usage: 'image export REF... -o FILE [--format oci|docker]',
  options: { file: { type: 'string', short: 'o' }, format: { type: 'string' } },
  flags: [
    ['-o, --file FILE', 'the archive to write (replaced atomically)'],
    ['--format oci|docker', 'oci: an OCI image layout in a tar (default); docker: for docker load'],
  ],
  args: [1, 64],
  async run(ctx, { positionals, values }) {
    const file = values.file;
    if (typeof file !== 'string' || file === '') {
      throw new BerthError('ERR_USAGE', 'invalid', 'image export needs -o FILE');
    }
    // Here -o names the archive (docker save's); `-o json` meant the output format, never a file.
    if (file === 'json' || file === 'text') {
      throw new BerthError('ERR_USAGE', 'invalid', `-o ${file} would name the archive file "${file}"`, {
        hint: `image export's -o is the archive (as docker save's); write --output ${file} for the output format`,
      });
    }
    const format = (values.format ?? 'oci') as string;
    if (format !== 'oci' && format !== 'docker') {
      throw new BerthError('ERR_USAGE', 'invalid', `--format must be oci or docker, not "${format}"`);
    }
    const result = await exportImages(await ctx.store(), positionals, file, format as ExportFormat);
    if (ctx.flags.output === 'json') ctx.stdout.write(renderJson(result));
    else {
      ctx.stdout.write(
        `exported ${result.images.join(', ')} to ${result.file} (${result.format}, ${result.blobs} blobs, ${formatSize(result.bytes)})\n`,
      );
    }
    return 0;
  },
};
