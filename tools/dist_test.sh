#!/usr/bin/env bash
# Distributed testing with torchrun (mmaction2's tools/dist_test.sh command line):
#   bash tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCS [test.py options...]
# Environment: NNODES (1), NODE_RANK (0), PORT (29500), MASTER_ADDR (127.0.0.1), PYTHON (python).
# On CPU-only machines the processes use gloo (vpd_mm.compat); every process evaluates its share of the test set
# and rank 0 reports the metrics.
set -euo pipefail
usage="usage: bash tools/dist_test.sh CONFIG CHECKPOINT NUM_PROCS [test.py options...]"
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
  sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'
  echo "$usage"
  exit 0
fi
if [ $# -lt 3 ]; then
  echo "$usage" >&2
  exit 2
fi
CONFIG=$1
CHECKPOINT=$2
NPROC=$3
shift 3
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
HERE=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-python}
exec "$PYTHON" -m torch.distributed.run --nnodes="$NNODES" --node_rank="$NODE_RANK" --master_addr="$MASTER_ADDR" \
  --nproc_per_node="$NPROC" --master_port="$PORT" "$HERE/test.py" "$CONFIG" "$CHECKPOINT" --launcher pytorch "$@"
