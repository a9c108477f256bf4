#!/usr/bin/env bash
# The container image, built and run on this machine without any registry
# (docs/operations.md, "Container"; tests/container runs it).
#
#   scripts/container.sh setup    podman + runc + debootstrap when missing, and the
#                                 base image the Dockerfile's FROM names, made once
#                                 from Debian's archive and kept in podman's storage
#   scripts/container.sh env      the environment podman runs with here (to `eval`)
#
# Why each piece (each was found by trying, on Debian 12 with a cgroup v1 kernel):
# - podman from Debian, no Docker engine; runc, since crun 1.8 refuses "cgroups in
#   hybrid mode"; explicit file-descriptor and process ulimits, since runc cannot
#   raise them without CAP_SYS_RESOURCE: deploy/podman/containers.conf, named by
#   CONTAINERS_CONF so the machine's own configuration is left alone.
# - the base image: the Dockerfile builds FROM python:3.11-slim-bookworm. Instead
#   of pulling it, debootstrap makes a minimal Debian 12 (its python3 is 3.11)
#   with python3, python3-venv and python-is-python3, imported under that exact
#   name (docker.io/library/..., which is what the short name resolves to).
# - certificates: when this machine reaches PyPI through a TLS-inspecting proxy
#   (its extra CAs in /usr/local/share/ca-certificates), the base image trusts
#   them too and pip is pointed at the system bundle (PIP_CERT), or `pip install`
#   in the build stage fails; on a machine without them nothing is added.
set -euo pipefail
cd "$(dirname "$0")/.."

BASE_IMAGE=docker.io/library/python:3.11-slim-bookworm
SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
PACKAGES=(podman runc debootstrap)
CONF="$PWD/deploy/podman/containers.conf"

need_cmd() { command -v "$1" >/dev/null 2>&1; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif need_cmd sudo; then sudo "$@"
    else echo "container.sh: need root: $*" >&2; return 1
    fi
}

install_packages() {
    local missing=() pkg
    for pkg in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    echo "container.sh: installing ${missing[*]}"
    # Another apt may be running (other set-ups on the same machine): wait for its lock.
    as_root apt-get -o DPkg::Lock::Timeout=600 update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
        install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

podman_() { as_root env CONTAINERS_CONF="$CONF" podman "$@"; }  # sudo would drop the variable

make_base_image() {
    if podman_ image exists "$BASE_IMAGE"; then
        return 0
    fi
    local work
    work=$(mktemp -d /var/tmp/locker-base.XXXXXX)
    trap 'as_root rm -rf "$work"; trap - RETURN' RETURN
    echo "container.sh: making $BASE_IMAGE with debootstrap ($SUITE from $MIRROR; a few minutes, once)"
    as_root debootstrap --variant=minbase \
        --include=python3,python3-venv,python-is-python3,ca-certificates \
        "$SUITE" "$work/rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1 \
        || { tail -20 "$work/debootstrap.log" >&2; return 1; }
    local changes=(
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
        --change 'ENV LANG=C.UTF-8'
        --change 'CMD ["python3"]'
    )
    if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
        as_root cp /usr/local/share/ca-certificates/*.crt "$work/rootfs/usr/local/share/ca-certificates/"
        as_root chroot "$work/rootfs" update-ca-certificates >/dev/null
        changes+=(--change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt')
    fi
    # apt's lists and caches are not part of a slim image
    as_root rm -rf "$work/rootfs/var/lib/apt/lists/"* "$work/rootfs/var/cache/apt/"*.bin
    as_root tar -C "$work/rootfs" -c . | podman_ import "${changes[@]}" - "$BASE_IMAGE" >/dev/null
    echo "container.sh: $BASE_IMAGE made"
}

case "${1:-}" in
    setup)
        install_packages
        make_base_image
        ;;
    env)
        echo "export CONTAINERS_CONF=$CONF"
        ;;
    *)
        echo "usage: scripts/container.sh setup|env" >&2
        exit 2
        ;;
esac
