// Linux's O_PATH, which Node's fs.constants lacks.

/**
 * A descriptor that names a file without opening it: no device driver runs, no FIFO waits (the
 * generic value: x86_64, arm64, riscv64). libuv adds O_CLOEXEC to every open.
 */
export const O_PATH = 0o10000000;
