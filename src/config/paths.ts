// Where the host config is read from when --config (or BERTH_CONFIG) does not say: on its own, so
// what only needs the path (the CLI asking a daemon which config it serves) loads no YAML parser.
export const DEFAULT_CONFIG_PATH = '/etc/berth/config.yaml';
export const DEFAULT_AUTH_FILE = '/etc/berth/auth.json';
