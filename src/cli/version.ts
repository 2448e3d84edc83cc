// berth's version, shown by `berth --version` and in `berth_build_info`.
export const VERSION = '0.1.0';
