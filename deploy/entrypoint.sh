#!/usr/bin/env bash
# The one entrypoint of Onegin's images: entrypoint.sh ROLE [ARGS...].
#
# Every long-running role `exec`s its real command, so the server or worker is the
# container's main process and SIGTERM from `docker stop` / Kubernetes reaches it.
# Configuration arrives only as ONEGIN_* variables (see docs/configuration.md).
#
#   web               gunicorn, one process: gevent (WEB_WORKER_CLASS=gthread: threads)
#   orchestrator      onegin worker orchestrator (Optuna on PostgreSQL, the orchestrator queue)
#   gpu-worker        onegin worker gpu (one trial at a time; needs no database)
#   migrate           onegin db upgrade, then create the S3 bucket if missing; exits
#   flower            Celery's Flower, refusing to start without FLOWER_BASIC_AUTH
#   optuna-dashboard  optuna-dashboard on the same database, via gunicorn
#   scale-runpod      onegin scale runpod (RunPod autoscaler, see docs/runpod.md)
#   health ROLE       probe for healthchecks: exit 0 when ROLE answers
#   drain             Kubernetes preStop for GPU workers: finish the trial, take no more
#   anything else     run as a command (e.g. `onegin token create alice`)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ops="$here/ops.py"

# Compose's --scale gives every replica the same devices (all GPUs of the host), so
# with GPU_LOCK_DIR set (a volume the replicas share) each replica takes the first
# GPU nobody holds: an flock on GPU_LOCK_DIR/gpu-N.lock, kept by the worker (the fd
# survives exec) until it exits. Kubernetes gives each pod its own GPU: no lock dir.
claim_gpu() {
  local dir=${GPU_LOCK_DIR:-} count i
  if [ -z "$dir" ] || [ -n "${CUDA_VISIBLE_DEVICES:-}" ]; then
    return 0
  fi
  count=${GPU_COUNT:-$(nvidia-smi -L 2>/dev/null | grep -c '^GPU ' || true)}
  if [ "${count:-0}" -eq 0 ]; then
    echo "gpu-worker: no GPU visible; training runs on the CPU" >&2
    return 0
  fi
  mkdir -p "$dir"
  while true; do
    for ((i = 0; i < count; i++)); do
      exec {gpu_lock}>"$dir/gpu-$i.lock"
      if flock --nonblock "$gpu_lock"; then
        export CUDA_VISIBLE_DEVICES=$i
        echo "gpu-worker: using GPU $i of $count" >&2
        return 0
      fi
      exec {gpu_lock}>&-
    done
    echo "gpu-worker: all $count GPUs are held by other replicas; waiting (scale to $count)" >&2
    sleep "${GPU_WAIT_SECONDS:-30}"
  done
}

usage() {
  sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
}

if [ $# -eq 0 ]; then
  usage
  exit 2
fi
role=$1
shift

case "$role" in
  web)
    # Bound beyond loopback, so with auth=auto the settings demand sign-in.
    export ONEGIN_WEB_HOST=${ONEGIN_WEB_HOST:-0.0.0.0}
    export ONEGIN_WEB_PORT=${ONEGIN_WEB_PORT:-8000}
    # gevent: a greenlet per connection; gthread: an OS thread per connection, so
    # WEB_THREADS must exceed the live WebSockets plus the requests served at once
    case "${WEB_WORKER_CLASS:-gevent}" in
      gevent) concurrency=(--worker-class gevent --worker-connections "${WEB_CONNECTIONS:-1000}") ;;
      gthread) concurrency=(--worker-class gthread --threads "${WEB_THREADS:-400}") ;;
      *)
        echo "web: WEB_WORKER_CLASS must be gevent or gthread, not '$WEB_WORKER_CLASS'" >&2
        exit 2
        ;;
    esac
    exec gunicorn webapp.wsgi:app \
      --bind "$ONEGIN_WEB_HOST:$ONEGIN_WEB_PORT" \
      --workers 1 "${concurrency[@]}" \
      --keep-alive "${WEB_KEEPALIVE:-75}" \
      --graceful-timeout 20 --no-control-socket --access-logfile - --error-logfile - "$@"
    ;;
  orchestrator)
    exec onegin worker orchestrator --name orchestrator "$@"
    ;;
  gpu-worker)
    claim_gpu
    exec onegin worker gpu --name gpu "$@"
    ;;
  migrate)
    onegin db upgrade "$@"
    exec python "$ops" ensure-bucket
    ;;
  flower)
    if [ -z "${FLOWER_BASIC_AUTH:-}" ]; then
      echo "flower: set FLOWER_BASIC_AUTH=user:password; Flower never runs without sign-in" >&2
      exit 2
    fi
    # Flower reads FLOWER_BASIC_AUTH and FLOWER_PORT itself: no password on the command line.
    exec celery -A onegin.celery_app flower --address=0.0.0.0 \
      --purge_offline_workers=600 "$@"
    ;;
  optuna-dashboard)
    exec gunicorn "ops:optuna_dashboard_app()" --pythonpath "$here" \
      --bind "0.0.0.0:${OPTUNA_DASHBOARD_PORT:-8080}" --workers 1 --threads 8 \
      --no-control-socket --access-logfile - --error-logfile - "$@"
    ;;
  scale-runpod)
    exec onegin scale runpod "$@"
    ;;
  health)
    exec python "$ops" health "$@"
    ;;
  drain)
    exec python "$ops" drain "$@"
    ;;
  -h|--help|help)
    usage
    ;;
  *)
    exec "$role" "$@"
    ;;
esac
