// Resolving a container's user ("name", "uid", "name:group", "uid:gid", …) against the image's
// /etc/passwd and /etc/group, as Docker and runc's libcontainer/user do. Pure: the caller reads
// the files (safely, inside the rootfs) and passes their text.
import { BerthError } from '../lib/errors.js';

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids: number[];
  home: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  /** Its uid or gid field is digits past 32 bits (`uid 4294967296`): the entry cannot be used. */
  pastRange?: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
  pastRange?: string;
}

/** The largest uid or gid: they are 32 bits (runc's config.json says uint32). */
const MAX_ID = 0xffffffff;
const isDigits = (s: string) => /^[0-9]+$/.test(s);
const isId = (s: string) => isDigits(s) && Number(s) <= MAX_ID;
const shortId = (digits: string) => (digits.length > 24 ? `${digits.slice(0, 24)}…` : digits);

/** A user or group spec of digits only must be a 32-bit id: it is never looked up as a name. */
function checkIdRange(spec: string, part: string, what: string): void {
  if (isDigits(part) && !isId(part)) {
    throw new BerthError(
      'ERR_USER_INVALID',
      'invalid',
      `user "${spec}": ${what} ${shortId(part)} is out of range (at most ${MAX_ID})`,
    );
  }
}

/** `uid 4294967296` for the first of `fields` that is digits past 32 bits, else undefined. */
const pastRange = (fields: Array<[string, string]>) => {
  const [what, value] = fields.find(([, v]) => isDigits(v) && !isId(v)) ?? [];
  return what === undefined ? undefined : `${what} ${shortId(value ?? '')}`;
};

/**
 * Lines whose ids are not digits are no entries; one whose ids are digits past 32 bits is kept,
 * marked: runc's parser reads it as a user whose uid a 32-bit config.json cannot hold, so it is
 * refused by name rather than said to be missing.
 */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(':');
    if (f.length < 7 || !f[0] || !isDigits(f[2] ?? '') || !isDigits(f[3] ?? '')) continue;
    const past = pastRange([
      ['uid', f[2] ?? ''],
      ['gid', f[3] ?? ''],
    ]);
    out.push({
      name: f[0],
      uid: Number(f[2]),
      gid: Number(f[3]),
      home: f[5] || '/',
      ...(past ? { pastRange: past } : {}),
    });
  }
  return out;
}

export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(':');
    if (f.length < 4 || !f[0] || !isDigits(f[2] ?? '')) continue;
    const past = pastRange([['gid', f[2] ?? '']]);
    const members = (f[3] ?? '').split(',').filter(Boolean);
    out.push({ name: f[0], gid: Number(f[2]), members, ...(past ? { pastRange: past } : {}) });
  }
  return out;
}

/** `what`: `user "app"` as it stands in `file` (and who asked, in front). */
function pastRangeError(what: string, past: string, file: string): BerthError {
  return new BerthError(
    'ERR_USER_INVALID',
    'invalid',
    `${what} has ${past} in ${file}, out of range (at most ${MAX_ID})`,
  );
}

export interface ResolveUserOptions {
  /** `container create -u app:app`: a group given drops the supplementary groups. */
  groupGivenDropsGroups?: boolean;
  /** The image's reference and the container's name, for the errors. */
  image?: string;
  container?: string;
}

/**
 * `spec` is the image's or the container's user (empty: root). A name must exist in the image; a
 * numeric uid need not (its gid is then 0, its home /). Supplementary groups are those that list
 * the user by name; with `groupGivenDropsGroups` (`container create -u app:app`, as runc and
 * Docker read `-u`), none when a group is given. An image's own USER and a pod's runAsUser and
 * runAsGroup keep the user's groups, as Kubernetes' CRI does (supplementalGroupsPolicy Merge).
 */
export function resolveUser(
  spec: string,
  passwd: string,
  group: string,
  o: ResolveUserOptions = {},
): ResolvedUser {
  const { groupGivenDropsGroups = false } = o;
  const of = (file: string) => `${file} of ${o.image === undefined ? 'the image' : `image "${o.image}"`}`;
  const who = o.container === undefined ? '' : `container "${o.container}": `;
  // At the first colon only, as runc's SplitN(spec, ":", 2): in "0:0:0" the group is "0:0" (no
  // group of that name), never "0" with the rest dropped.
  const text = spec || '0';
  const colon = text.indexOf(':');
  const [userPart, groupPart] =
    colon === -1 ? [text, undefined] : [text.slice(0, colon), text.slice(colon + 1)];
  checkIdRange(spec, userPart, 'uid');
  checkIdRange(spec, groupPart ?? '', 'gid');
  const users = parsePasswd(passwd);
  const groups = parseGroup(group);
  const entry = isId(userPart)
    ? users.find((u) => u.uid === Number(userPart))
    : users.find((u) => u.name === userPart);
  if (entry?.pastRange)
    throw pastRangeError(`${who}user "${entry.name}"`, entry.pastRange, of('/etc/passwd'));
  if (!entry && !isId(userPart)) {
    throw new BerthError(
      'ERR_UNKNOWN_USER',
      'invalid',
      `${who}user "${userPart}" is not in ${of('/etc/passwd')}`,
    );
  }
  const uid = entry ? entry.uid : Number(userPart);
  let gid = entry ? entry.gid : 0;
  if (groupPart !== undefined && groupPart !== '') {
    if (isId(groupPart)) gid = Number(groupPart);
    else {
      const g = groups.find((x) => x.name === groupPart);
      if (g?.pastRange) throw pastRangeError(`${who}group "${g.name}"`, g.pastRange, of('/etc/group'));
      if (!g) {
        throw new BerthError(
          'ERR_UNKNOWN_GROUP',
          'invalid',
          `${who}group "${groupPart}" is not in ${of('/etc/group')}`,
        );
      }
      gid = g.gid;
    }
  }
  const explicitGroup = groupGivenDropsGroups && groupPart !== undefined && groupPart !== '';
  const additionalGids =
    entry && !explicitGroup
      ? [
          ...new Set(
            groups
              .filter((g) => !g.pastRange && g.members.includes(entry.name) && g.gid !== gid)
              .map((g) => g.gid),
          ),
        ]
      : [];
  return { uid, gid, additionalGids, home: entry?.home ?? '/' };
}
