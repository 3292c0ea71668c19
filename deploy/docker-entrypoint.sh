#!/bin/sh
# raftq container entrypoint.
#   docker run raftq                      -> raftq server (configured by RAFTQ_* variables)
#   docker run raftq --print-config       -> raftq server --print-config
#   docker run raftq COMMAND ...          -> raftq COMMAND ... (any other raftq command)
# With RAFTQ_NODE_ID_FROM_ORDINAL=1 and no RAFTQ_NODE_ID, the node id comes from the ordinal
# of a StatefulSet pod name (RAFTQ_POD_NAME, else the hostname): raftq-0 -> n1, raftq-1 -> n2 ...
set -eu

if [ -z "${RAFTQ_NODE_ID:-}" ] && [ "${RAFTQ_NODE_ID_FROM_ORDINAL:-}" = "1" ]; then
  pod="${RAFTQ_POD_NAME:-$(hostname)}"
  ordinal="${pod##*-}"
  case "$ordinal" in
    '' | *[!0-9]*)
      echo "raftq-entrypoint: cannot derive the node id: pod name \"$pod\" does not end in -<ordinal>" >&2
      exit 2
      ;;
  esac
  RAFTQ_NODE_ID="n$((ordinal + 1))"
  export RAFTQ_NODE_ID
fi

if [ "$#" -eq 0 ]; then
  set -- server
else
  case "$1" in
    -*) set -- server "$@" ;;
  esac
fi

exec node /app/dist/src/cli/main.js "$@"
