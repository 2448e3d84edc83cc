// The spawn helper's program (python3, run by spawn-helper.ts). It reads one JSON request a line
// on stdin, `{"id", "argv", "cwd", "timeoutMs"}` and optionally `"env"` (the child's whole
// environment, else the helper's) and `"stdin"` (text fed to the child, else /dev/null), runs argv
// (never through a shell; no inherited descriptors beyond 0-2), and answers one JSON line on stdout per request
// as each ends, in any order: `{"id", "pid", "code", "signal", "stdout", "stderr", "why"}` where
// `why` is null, "timeout" or "maxBuffer" (the child was killed), or `{"id", "error", "errno"}`
// when argv could not be started. Requests run side by side (one thread each).
//
// A request with `"handshake": {"env": {...}}` starts conmon's way (conmon.ts): in a new session,
// stdout to /dev/null, a sync pipe whose write end's number is in _OCI_SYNCPIPE, and answers as
// soon as the sync pipe holds a `{...}` line, or 100 ms after a non-zero exit, or once the sync
// pipe closed without one (conmon's monitor is gone: runc failed without a word) and stderr ended
// too (500 ms at most), or at the deadline
// (`why: "timeout"`; the caller kills what it started, by pid, as it knows what is its own):
// `{"id", "pid", "code", "sync", "stderr", "why"}`. The child is reaped in the background.
//
// A request `{"id", "netns": PATH}` or `{"id", "overlay": {...}}` is done by the helper itself with
// system calls, no process started (spawn-helper-syscalls.ts).
//
// Why python: its subprocess forks with vfork, and its resident size is ~10 MB whatever the
// daemon's, so a spawn costs the same at 10 pods as at 300 (a fork from Node copies the page
// tables of the whole daemon). A line that is not a well-formed request ends the helper (exit 2):
// only the daemon holds its stdin, so that is a bug, never something to work around.
import { SYSCALL_REQUESTS } from './spawn-helper-syscalls.js';

export const SPAWN_HELPER_SCRIPT = String.raw`
import json, os, selectors, subprocess, sys, threading, time
CAP = 16 << 20
lock = threading.Lock()
out = sys.stdout.buffer
def reply(msg):
    data = (json.dumps(msg, separators=(',', ':')) + '\n').encode()
    with lock:
        out.write(data)
        out.flush()
def collect(p, deadline):
    bufs = {p.stdout: bytearray(), p.stderr: bytearray()}
    sel = selectors.DefaultSelector()
    for f in bufs:
        sel.register(f, selectors.EVENT_READ)
    why = None
    while why is None and sel.get_map():
        left = deadline - time.monotonic()
        if left <= 0:
            why = 'timeout'
            break
        for key, _ in sel.select(left):
            chunk = os.read(key.fd, 1 << 16)
            if not chunk:
                sel.unregister(key.fileobj)
                continue
            buf = bufs[key.fileobj]
            buf += chunk
            if len(buf) > CAP:
                why = 'maxBuffer'
                del buf[CAP:]
                break
    sel.close()
    if why is None:
        try:
            p.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            why = 'timeout'
    if why is not None:
        p.kill()
    p.wait()
    p.stdout.close()
    p.stderr.close()
    return bufs[p.stdout], bufs[p.stderr], why
def feed(f, data):
    try:
        f.write(data)
    except OSError:
        pass  # a child that exits before reading all: its exit says why
    finally:
        try:
            f.close()
        except OSError:
            pass
def run(req):
    rid = req['id']
    text = req.get('stdin')
    data = None if text is None else text.encode('utf-8', 'replace')  # never fails after the child started
    try:
        p = subprocess.Popen(req['argv'], stdin=subprocess.DEVNULL if data is None else subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=req.get('cwd'),
                             env=req.get('env'), close_fds=True)
    except (OSError, ValueError) as e:
        reply({'id': rid, 'error': str(e), 'errno': getattr(e, 'errno', None)})
        return
    if data is not None:
        threading.Thread(target=feed, args=(p.stdin, data), daemon=True).start()
    so, se, why = collect(p, time.monotonic() + req['timeoutMs'] / 1000)
    rc = p.returncode
    reply({'id': rid, 'pid': p.pid, 'code': rc if rc >= 0 else None, 'signal': -rc if rc < 0 else None,
           'stdout': so.decode('utf-8', 'replace'), 'stderr': se.decode('utf-8', 'replace'), 'why': why})
def replied(sync):
    return any(l.strip().startswith('{') and l.strip().endswith('}') for l in sync.split('\n'))
def handshake(req):
    rid = req['id']
    r, w = os.pipe()
    env = dict(os.environ)
    env.update(req['handshake']['env'])
    env['_OCI_SYNCPIPE'] = str(w)
    try:
        p = subprocess.Popen(req['argv'], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, cwd=req.get('cwd'), close_fds=True, pass_fds=(w,),
                             env=env, start_new_session=True)
    except (OSError, ValueError) as e:
        os.close(r)
        reply({'id': rid, 'error': str(e), 'errno': getattr(e, 'errno', None)})
        return
    finally:
        os.close(w)
    deadline = time.monotonic() + req['timeoutMs'] / 1000
    efd = p.stderr.fileno()
    bufs = {r: bytearray(), efd: bytearray()}
    sel = selectors.DefaultSelector()
    for fd in bufs:
        sel.register(fd, selectors.EVENT_READ)
    why = None
    failed_at = None
    closed_at = None
    while not replied(bufs[r].decode('utf-8', 'replace')):
        now = time.monotonic()
        if failed_at is None and p.poll() is not None and p.returncode != 0:
            failed_at = now
        if failed_at is not None and now - failed_at >= 0.1:
            break
        if closed_at is not None and (efd not in sel.get_map() or now - closed_at >= 0.5):
            break
        if now >= deadline:
            why = 'timeout'
            break
        for key, _ in sel.select(min(deadline - now, 0.05)):
            chunk = os.read(key.fd, 1 << 16)
            if not chunk:
                sel.unregister(key.fd)
                if key.fd == r:
                    closed_at = time.monotonic()
            elif len(bufs[key.fd]) < (1 << 20):
                bufs[key.fd] += chunk
    sel.close()
    os.close(r)
    p.stderr.close()
    if closed_at is not None and why is None:
        # The pipe closes as the child exits, a moment before it can be reaped: its code is waited for.
        try:
            p.wait(timeout=0.1)
        except subprocess.TimeoutExpired:
            pass
    reply({'id': rid, 'pid': p.pid, 'code': p.poll(), 'sync': bufs[r].decode('utf-8', 'replace'),
           'stderr': bufs[efd].decode('utf-8', 'replace'), 'why': why})
    p.wait()
${SYSCALL_REQUESTS}
def guarded(work, req):
    # Whatever fails, the request is answered (an answer after the first is ignored by the daemon).
    try:
        work(req)
    except Exception as e:
        reply({'id': req['id'], 'error': 'spawn helper: %r' % (e,), 'errno': None})
def strings(d):
    return isinstance(d, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in d.items())
def valid(req):
    return (isinstance(req, dict) and isinstance(req.get('id'), int)
            and isinstance(req.get('argv'), list) and len(req['argv']) > 0
            and all(isinstance(a, str) for a in req['argv'])
            and (req.get('cwd') is None or isinstance(req['cwd'], str))
            and isinstance(req.get('timeoutMs'), (int, float)) and 0 < req['timeoutMs'] <= 86400000
            and (req.get('env') is None or strings(req['env']))
            and (req.get('stdin') is None or isinstance(req['stdin'], str))
            and (req.get('handshake') is None or (isinstance(req['handshake'], dict)
                 and req.get('env') is None and req.get('stdin') is None
                 and strings(req['handshake'].get('env')))))
for line in sys.stdin.buffer:
    try:
        req = json.loads(line)
    except ValueError:
        sys.exit(2)
    call = syscall_request(req)
    if call is not None:
        threading.Thread(target=guarded, args=(call, req), daemon=True).start()
        continue
    if not valid(req):
        if isinstance(req, dict) and isinstance(req.get('id'), int):
            reply({'id': req['id'], 'error': 'spawn helper: a request it cannot run', 'errno': None})
            continue
        sys.exit(2)
    work = handshake if req.get('handshake') is not None else run
    threading.Thread(target=guarded, args=(work, req), daemon=True).start()
# The daemon is gone or stopping. Under the lock no reply is half written; os._exit skips the
# interpreter's finalisation, which aborts (SIGABRT) while a daemon thread holds stdout's lock.
with lock:
    out.flush()
    os._exit(0)
`;
