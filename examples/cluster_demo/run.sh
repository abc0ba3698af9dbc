#!/bin/sh
# The README's main job: two Mesh nodes on loopback, one command.
#   sh examples/cluster_demo/run.sh
# Builds meshc (release) and this project into one executable, starts the
# worker node on an OS-chosen port, runs the app node against it, and
# stops everything it started when it ends (also on failure or Ctrl-C).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
worker=""
cleanup() {
    if [ -n "$worker" ]; then
        kill "$worker" 2>/dev/null || true
        wait "$worker" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cd "$root"
cargo run --quiet --release -p mesh-cli -- build examples/cluster_demo --release -o "$tmp/cluster_demo"

MESH_WORKER_NODE=worker@127.0.0.1:0 "$tmp/cluster_demo" worker >"$tmp/worker.out" 2>&1 &
worker=$!

# The worker prints `node NAME` (with its real port) once it listens.
name=""
for _ in $(seq 1 200); do
    name=$(sed -n 's/^node //p' "$tmp/worker.out" | head -n 1)
    [ -n "$name" ] && break
    if ! kill -0 "$worker" 2>/dev/null; then break; fi
    sleep 0.05
done
if [ -z "$name" ]; then
    echo "the worker node did not start:" >&2
    cat "$tmp/worker.out" >&2
    exit 1
fi
echo "worker node: $name"

MESH_APP_NODE=app@127.0.0.1:0 MESH_WORKER_NODE="$name" "$tmp/cluster_demo"

# The app asked the worker to stop; give it a moment, then show its output.
for _ in $(seq 1 100); do
    kill -0 "$worker" 2>/dev/null || break
    sleep 0.05
done
sed 's/^/  (worker) /' "$tmp/worker.out"
