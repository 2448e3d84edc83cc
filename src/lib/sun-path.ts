// How long a unix socket's path may be: sun_path holds 108 bytes with its NUL (Linux's
// sockaddr_un). Node refuses a longer path to bind or connect (EINVAL); conmon cuts one (strncpy).

/** sun_path's room, its NUL left out. */
export const SUN_PATH_MAX = 107;
