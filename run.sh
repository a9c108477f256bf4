#!/usr/bin/env bash
# One entry point for people and CI.
#   ./run.sh demo   set everything up, then start the demo
#   ./run.sh test   set everything up, then run the default test suite
#   ./run.sh bench  set everything up, then run the benchmarks
#   ./run.sh container
#                   the container smoke test (tests/container): podman and a base image made
#                   from Debian's archive (scripts/container.sh), then build, run, stop
#   ./run.sh fleet [--long]
#                   the fleet world (docs/fleet.md): RabbitMQ cluster, PostgreSQL, the reference
#                   central system, many lockers, faults: the CI profile (50 lockers) or the long one
#   ./run.sh reliability [--long]
#                   the fault, crash, network, security and fuzz suite (docs/reliability.md):
#                   the CI profile (a few minutes), or the long one
# Set-up is idempotent: system packages are installed only when missing (and
# only when we may: as root, or through sudo), the virtual environment lives in
# .venv and is refreshed when pyproject.toml changes.
set -euo pipefail
cd "$(dirname "$0")"

# chromium + a CJK font: the browser tests of the pages (tests/web), screenshots in Chinese.
# libusb-1.0-0: what pyusb talks to an ID-card reader in USB mode through.
# rabbitmq-server + postgresql: the fleet world (tests/fleet, bench/fleet): a broker cluster and the
# reference central system's database, each started by the tests on loopback ports.
SYSTEM_PACKAGES=(mosquitto mosquitto-clients mbpoll openssl chromium fonts-wqy-microhei libusb-1.0-0 rabbitmq-server postgresql)
VENV=.venv

need_cmd() { command -v "$1" >/dev/null 2>&1; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif need_cmd sudo; then sudo "$@"
    else echo "run.sh: need root to install system packages: $*" >&2; return 1
    fi
}

install_system_packages() {
    local missing=()
    local pkg
    for pkg in "${SYSTEM_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
        missing+=(python3-venv)
    fi
    if [ "${#missing[@]}" -gt 0 ]; then
        if ! need_cmd apt-get; then
            echo "run.sh: please install: ${missing[*]}" >&2; return 1
        fi
        echo "run.sh: installing system packages: ${missing[*]}"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

# node + the official MicroPython WebAssembly build (package.json, pinned in
# package-lock.json): the firmware's tests and `locker-sim serve --engine micropython`.
install_node_packages() {
    if ! need_cmd node || ! need_cmd npm; then
        if ! need_cmd apt-get; then
            echo "run.sh: please install node (>= 18.3) and npm" >&2; return 1
        fi
        echo "run.sh: installing system packages: nodejs npm"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
    fi
    local stamp="node_modules/.installed-$(sha256sum package-lock.json | cut -c1-16)"
    if [ ! -f "$stamp" ]; then
        npm ci --no-audit --no-fund --loglevel=error
        touch "$stamp"
    fi
}

install_python_packages() {
    local stamp="$VENV/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
    if [ ! -x "$VENV/bin/python" ]; then
        python3 -m venv "$VENV"
    fi
    if [ ! -f "$stamp" ]; then
        "$VENV/bin/python" -m pip install -q --upgrade pip
        "$VENV/bin/python" -m pip install -q -e '.[dev]'
        rm -f "$VENV"/.installed-*
        touch "$stamp"
    fi
}

setup() {
    install_system_packages
    install_node_packages
    install_python_packages
}

cmd="${1:-}"
shift || true
case "$cmd" in
    demo)
        setup
        # simulator, broker, daemon and a seeded hall; Ctrl-C stops them all
        exec "$VENV/bin/lockerd" demo "$@"
        ;;
    test)
        setup
        "$VENV/bin/ruff" check .
        "$VENV/bin/mypy" protocol simulator locker_host mqtt_bridge firmware demo central
        # the rp2 HAL and the board's main.py, against MicroPython's own stubs
        "$VENV/bin/python" -m firmware typecheck
        # The default suite leaves out the tests marked slow (the demo, the
        # Kerong and mixed sites' end-to-end runs, ...); `-m slow` runs them
        # (a later -m wins), as CI does after the default suite.
        exec "$VENV/bin/python" -m pytest -m "not slow" "$@"
        ;;
    bench)
        setup
        exec "$VENV/bin/python" -m bench "$@"
        ;;
    container)
        if [ "$(id -u)" != 0 ]; then
            # podman's rootful storage holds the base image; the simulator's pty is
            # handed to group dialout as udev would hand an adapter
            echo "run.sh container: run as root" >&2; exit 1
        fi
        setup
        scripts/container.sh setup
        LOCKER_CONTAINER=1 exec "$VENV/bin/python" -m pytest tests/container -p no:cacheprovider -rA "$@"
        ;;
    fleet)
        setup
        # The fleet world (tests/fleet, docs/fleet.md): a 3-node RabbitMQ cluster, PostgreSQL,
        # the reference central system and fleet runners. The CI profile: 50 lockers.
        profile=ci timeout=1200
        if [ "${1:-}" = "--long" ]; then
            profile=long timeout=7200
            shift
        fi
        LOCKER_FLEET=$profile exec "$VENV/bin/python" -m pytest tests/fleet \
            -o timeout=$timeout -p no:cacheprovider -rA -s "$@"
        ;;
    reliability)
        setup
        # The HTTP API's schemathesis test (tests/api/test_openapi.py) runs here with
        # more generated requests per operation (API_EXAMPLES) than in ./run.sh test.
        profile=ci examples=800 api_examples=50 timeout=900
        if [ "${1:-}" = "--long" ]; then
            profile=long examples=20000 api_examples=1000 timeout=7200
            shift
        fi
        LOCKER_RELIABILITY=$profile LOCKER_FUZZ_EXAMPLES=$examples API_EXAMPLES=$api_examples \
            exec "$VENV/bin/python" -m pytest tests/reliability tests/fuzz tests/api/test_openapi.py \
            -o timeout=$timeout -p no:cacheprovider -rA "$@"
        ;;
    *)
        echo "usage: ./run.sh demo|test|bench|container|reliability [args...]" >&2
        exit 2
        ;;
esac
