# Sourced by the other scripts: puts Node 24 first on PATH when the host's Node is older and
# scripts/setup.sh installed one under /opt/berth/node.
BERTH_NODE_PREFIX=${BERTH_NODE_PREFIX:-/opt/berth/node}
if [ -x "$BERTH_NODE_PREFIX/bin/node" ]; then
  case ":$PATH:" in
    *":$BERTH_NODE_PREFIX/bin:"*) ;;
    *) PATH="$BERTH_NODE_PREFIX/bin:$PATH" ;;
  esac
  export PATH
fi
