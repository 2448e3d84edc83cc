// The spawn helper's requests done with system calls in the helper itself, no process started
// (python3, part of spawn-helper-script.ts): a create's network namespace and its rootfs overlay
// were three programs (`unshare`, `ip`, `mount`: some 18 ms of CPU a create on the test host).
// Each runs in its request's own thread, which changes only its own namespace or working dir and
// ends after its answer; the helper's other threads never see the change.
//
// `{"id", "netns": PATH}`: a network namespace bound at PATH (an empty file that exists) with
// loopback up, as `unshare --net=PATH ip link set lo up` makes it: the thread unshares its network
// namespace (CLONE_NEWNET moves only the calling thread), binds it at PATH, sets lo up
// (SIOCSIFFLAGS, as `ip` does through netlink), and goes back to the helper's namespace before it
// answers.
// `{"id", "overlay": {"options", "target", "cwd"}}`: `mount -t overlay overlay -o OPTIONS TARGET` run
// in CWD (the options name the lowers relative to it, lower-links.ts): the same mount(2) as
// util-linux's mount makes for it (no flags; the options are overlayfs's own), from a thread
// whose working dir is its own (CLONE_FS).
// `{"id", "rebind": {"from", "to"}}`: the namespace bound at FROM bound at TO too (an empty file
// that exists), then FROM unmounted: a spare network namespace given to its holder
// (network/spare-pool.ts). When FROM cannot be unmounted TO is unmounted again: all or nothing.
// Either answers `{"id", "done": true}`, or `{"id", "error", "errno"}` naming the step that failed
// (what it had bound or mounted stays: the caller removes it, as after the programs).
export const SYSCALL_REQUESTS = String.raw`
NEWNET = 0x40000000
NEWFS = 0x200
MS_BIND = 4096
libc = None
def syscalls():
    global libc
    if libc is None:
        import ctypes
        c = ctypes.CDLL(None, use_errno=True)
        c.unshare.argtypes = [ctypes.c_int]
        c.setns.argtypes = [ctypes.c_int, ctypes.c_int]
        c.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
        c.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
        libc = c
    return libc
def check(rc, step):
    if rc != 0:
        import ctypes
        e = ctypes.get_errno()
        raise OSError(e, '%s: %s' % (step, os.strerror(e)))
def answer(rid, failed):
    # The step and errno; the caller's message names the path.
    if failed is None:
        reply({'id': rid, 'done': True})
    else:
        reply({'id': rid, 'error': str(failed.strerror or failed), 'errno': failed.errno})
def lo_up():
    import fcntl, socket, struct
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            ifr = struct.unpack('16sH22x', fcntl.ioctl(s, 0x8913, struct.pack('16sH22x', b'lo', 0)))
            fcntl.ioctl(s, 0x8914, struct.pack('16sH22x', b'lo', ifr[1] | 1))  # SIOCSIFFLAGS, IFF_UP
        except OSError as e:
            raise OSError(e.errno, 'lo up: %s' % (e.strerror,))
def netns(req):
    c = syscalls()
    failed = None
    home = os.open('/proc/thread-self/ns/net', os.O_RDONLY | os.O_CLOEXEC)
    try:
        check(c.unshare(NEWNET), 'unshare')
        check(c.mount(b'/proc/thread-self/ns/net', os.fsencode(req['netns']), None, MS_BIND, None), 'bind mount')
        lo_up()
    except OSError as e:
        failed = e
    finally:
        # Home before the answer; a failed return is told (the caller removes the namespace), and
        # leaves no other work in this thread: it ends.
        if c.setns(home, NEWNET) != 0 and failed is None:
            import ctypes
            e = ctypes.get_errno()
            failed = OSError(e, 'setns home: %s' % (os.strerror(e),))
        os.close(home)
    answer(req['id'], failed)
def overlay(req):
    o = req['overlay']
    c = syscalls()
    failed = None
    try:
        check(c.unshare(NEWFS), 'unshare')  # a working dir of this thread's own, before chdir
        try:
            os.chdir(o['cwd'])
        except OSError as e:
            raise OSError(e.errno, 'chdir %s: %s' % (o['cwd'], e.strerror))
        check(c.mount(b'overlay', os.fsencode(o['target']), b'overlay', 0, os.fsencode(o['options'])), 'mount')
    except OSError as e:
        failed = e
    answer(req['id'], failed)
def rebind(req):
    o = req['rebind']
    c = syscalls()
    failed = None
    try:
        check(c.mount(os.fsencode(o['from']), os.fsencode(o['to']), None, MS_BIND, None), 'bind mount')
        if c.umount2(os.fsencode(o['from']), 0) != 0:
            import ctypes
            e = ctypes.get_errno()
            c.umount2(os.fsencode(o['to']), 2)  # MNT_DETACH
            raise OSError(e, 'umount: %s' % (os.strerror(e),))
    except OSError as e:
        failed = e
    answer(req['id'], failed)
def path_string(v):
    return isinstance(v, str) and v.startswith('/') and '\0' not in v
def syscall_request(req):
    # The request's work when it is one of these (well formed), else None.
    if not isinstance(req, dict) or not isinstance(req.get('id'), int):
        return None
    if path_string(req.get('netns')):
        return netns
    o = req.get('overlay')
    if (isinstance(o, dict) and path_string(o.get('target')) and path_string(o.get('cwd'))
            and isinstance(o.get('options'), str) and '\0' not in o['options']):
        return overlay
    b = req.get('rebind')
    if isinstance(b, dict) and path_string(b.get('from')) and path_string(b.get('to')):
        return rebind
    return None
`;
