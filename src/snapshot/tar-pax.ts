// PAX extended header records ("<len> <key>=<value>\n"), read as Go's archive/tar reads them,
// so a layer holds the same entries for berth as for containerd, Docker and umoci, or fails for
// all: values kept as raw bytes (a name that is not UTF-8 reaches the disk byte for byte), GNU
// sparse 0.0's repeated pairs folded into one map, an empty value taken as none. Pure.
import { BerthError } from '../lib/errors.js';

function corrupt(why: string): BerthError {
  return new BerthError('ERR_LAYER_CORRUPT', 'integrity', `malformed tar: ${why}`);
}

const NAME_KEYS = new Set(['path', 'linkpath', 'uname', 'gname']);
/** A record's length as Go's strconv.ParseInt reads it: decimal digits, a sign allowed. */
const RECORD_LENGTH = /^[+-]?\d+$/;

/**
 * PAX records: "<len> <key>=<value>\n", values kept as raw bytes, read as Go's parsePAXRecord
 * reads them: a length that is decimal digits and counts its own record to the newline ending
 * it, a key that is not empty. Anything else (a record cut short or not ended by its newline, a
 * length Number() would take: "0x1f", "1e2", " 12", bytes left after the last record) fails the
 * layer as it fails Go's reader, rather than being read in a way no other reader reads it.
 */
export function parsePax(body: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  // GNU sparse 0.0 repeats offset/numbytes pairs: folded into one 0.1 map, in order, as Go does.
  const sparse: string[] = [];
  let pos = 0;
  while (pos < body.length) {
    const space = body.indexOf(0x20, pos);
    const digits = space < 0 ? '' : body.toString('latin1', pos, space);
    const len = RECORD_LENGTH.test(digits) ? Number(digits) : Number.NaN;
    if (!(len >= 5 && pos + len <= body.length && space + 1 < pos + len))
      throw corrupt('bad PAX record length');
    if (body[pos + len - 1] !== 0x0a) throw corrupt('PAX record not ended by a newline');
    const record = body.subarray(space + 1, pos + len - 1); // without the trailing newline
    const eq = record.indexOf(0x3d);
    if (eq < 0) throw corrupt('PAX record without "="');
    if (eq === 0) throw corrupt('PAX record with an empty key');
    const key = record.subarray(0, eq).toString('utf8');
    const value = record.subarray(eq + 1);
    // Go's reader refuses these (a name cannot hold a NUL): one tree for every tool, or none.
    if (NAME_KEYS.has(key) && value.includes(0)) throw corrupt(`PAX ${key} with a NUL byte`);
    if (key.includes('\0')) throw corrupt('PAX key with a NUL byte');
    if (key === 'GNU.sparse.offset' || key === 'GNU.sparse.numbytes') {
      if ((key === 'GNU.sparse.offset') !== (sparse.length % 2 === 0))
        throw corrupt('GNU sparse 0.0 pairs out of order');
      if (value.includes(0x2c)) throw corrupt(`PAX ${key} with a comma`);
      sparse.push(value.toString('latin1'));
    } else out.set(key, value);
    pos += len;
  }
  if (sparse.length > 0) out.set('GNU.sparse.map', Buffer.from(sparse.join(',')));
  return out;
}

/**
 * A PAX record an entry takes: an empty value is none, the header's own field kept, as Go's
 * mergePAX keeps it ("path=" named the root, dropping the entry; "size=" or "mtime=" failed it).
 */
export function paxValue(pax: Map<string, Buffer>, key: string): Buffer | undefined {
  const v = pax.get(key);
  return v && v.length > 0 ? v : undefined;
}
