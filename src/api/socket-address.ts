// The API socket's address as bind(2) and connect(2) take it. sun_path holds 107 bytes, and Node
// refuses a longer path (EINVAL): under a --state deep enough that `<state>/berth.sock` passes them,
// the daemon could not listen (it said another daemon served the socket) and every command's first
// look for a daemon failed (`ERR_API: daemon socket …: connect EINVAL`). Such a path is reached
// through its directory, opened (O_PATH) by this process: `/proc/self/fd/<fd>/<name>`, some 30
// bytes, as conmon binds its attach socket. Nothing changes for a path that fits.
import { closeSync, constants, openSync } from 'node:fs';
import { connect, Socket } from 'node:net';
import { basename, dirname } from 'node:path';
import { O_PATH } from '../lib/o-path.js';
import { SUN_PATH_MAX } from '../lib/sun-path.js';

export interface SocketAddress {
  /** What bind or connect is given. */
  address: string;
  /** Closes the directory's descriptor, once the bind or connect is done with it (again: nothing). */
  release(): void;
}

/** `path` as bind and connect take it; throws as open(2) of its directory does (ENOENT, ENOTDIR). */
export function socketAddress(path: string): SocketAddress {
  if (Buffer.byteLength(path) <= SUN_PATH_MAX) return { address: path, release: () => undefined };
  const fd = openSync(dirname(path), O_PATH | constants.O_DIRECTORY);
  let open = true;
  return {
    address: `/proc/self/fd/${fd}/${basename(path)}`,
    release() {
      if (open) closeSync(fd);
      open = false;
    },
  };
}

/**
 * net.connect to the unix socket at `path`, whatever its length. A directory that cannot be opened
 * is the socket's error, as connect's own would be (ENOENT: no daemon there).
 */
export function connectSocket(path: string, onConnect?: () => void): Socket {
  let at: SocketAddress;
  try {
    at = socketAddress(path);
  } catch (err) {
    const socket = new Socket();
    process.nextTick(() => socket.destroy(err as Error)); // once the caller listens for it
    return socket;
  }
  const socket = connect(at.address, onConnect);
  socket.once('connect', at.release);
  socket.once('close', at.release);
  return socket;
}
