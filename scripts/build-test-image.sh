#!/usr/bin/env bash
# Builds the local image crowdcompute/busybox:local (FROM scratch + Debian's static busybox),
# used by tests/worker and the demo. Idempotent: nothing to do when the image is present.
# Installs busybox-static with apt-get when no static busybox is found (CI).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
python="${PYTHON:-$root/.venv/bin/python}"
cd "$root"
exec "$python" -m crowdcompute.worker.local_image
