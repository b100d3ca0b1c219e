#!/usr/bin/env bash
# Training on a Slurm cluster (mmaction2's tools/slurm_train.sh command line):
#   bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG [train.py options...]
# Environment: GPUS (8 tasks in all), GPUS_PER_NODE (8), CPUS_PER_TASK (5), SRUN_ARGS (extra srun options),
# MASTER_PORT (random in 12000..31999), PYTHON (python). One task per GPU; train.py runs with --launcher slurm.
set -euo pipefail
usage="usage: bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG [train.py options...]"
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
  sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'
  echo "$usage"
  exit 0
fi
if [ $# -lt 3 ]; then
  echo "$usage" >&2
  exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
shift 3
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
read -r -a SRUN_EXTRA <<< "${SRUN_ARGS:-}"
export MASTER_PORT=${MASTER_PORT:-$((12000 + RANDOM % 20000))}
HERE=$(cd "$(dirname "$0")" && pwd)
PYTHON=${PYTHON:-python}
set -x
exec srun -p "$PARTITION" --job-name="$JOB_NAME" --gres="gpu:$GPUS_PER_NODE" --ntasks="$GPUS" \
  --ntasks-per-node="$GPUS_PER_NODE" --cpus-per-task="$CPUS_PER_TASK" --kill-on-bad-exit=1 \
  ${SRUN_EXTRA[@]+"${SRUN_EXTRA[@]}"} \
  "$PYTHON" -u "$HERE/train.py" "$CONFIG" --launcher slurm "$@"
