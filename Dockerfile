# lockerd in a container (docs/operations.md, "Container").
#
#   docker build -t lockerd .
#   docker run --device /dev/serial/by-id/usb-FTDI_...:/dev/ttyRS485 --group-add dialout \
#     -v /etc/lockerd:/etc/lockerd:ro -v lockerd-state:/var/lib/lockerd lockerd
#
# hadolint and tests/deploy check it statically; `./run.sh container` builds it
# with podman and runs it (tests/container, docs/operations.md). Two stages:
# the build stage installs the wheel into a virtual environment; the runtime
# stage copies that environment only (no compiler, no pip cache, no sources)
# and runs as an unprivileged user whose only extra group is dialout, the
# group that owns serial devices.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
COPY pyproject.toml README.md ./
# lockerd only: the simulator, the demo and the firmware are not shipped
# (tests/test_architecture.py proves `lockerd run` never imports them)
COPY protocol/ protocol/
COPY locker_host/ locker_host/
COPY mqtt_bridge/ mqtt_bridge/
RUN python -m venv /opt/lockerd \
    && /opt/lockerd/bin/pip install --no-cache-dir . \
    && /opt/lockerd/bin/lockerd --help > /dev/null

FROM ${PYTHON_IMAGE}
# uid/gid 10001 (no clash with a host account); dialout (gid 20 on Debian, as on
# the host) opens /dev/ttyUSB* and /dev/serial/by-id/* passed with --device.
RUN groupadd --system --gid 10001 lockerd \
    && useradd --system --uid 10001 --gid lockerd --groups dialout \
        --home-dir /var/lib/lockerd --no-create-home --shell /usr/sbin/nologin lockerd \
    && install -d -o lockerd -g lockerd -m 0750 /var/lib/lockerd /run/lockerd
COPY --from=build /opt/lockerd /opt/lockerd
ENV PATH=/opt/lockerd/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
# By name, so that the user's supplementary group (dialout) is looked up too.
# hadolint ignore=DL3066
USER lockerd
WORKDIR /var/lib/lockerd
VOLUME ["/var/lib/lockerd"]
# The [http] port of /etc/lockerd/lockerd.toml; it binds 127.0.0.1 by default,
# so run with --network host (the kiosk's browser is on the same box).
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request as u; sys.exit(u.urlopen('http://127.0.0.1:8080/api/v1/health', timeout=4).status != 200)"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["lockerd", "run", "--config", "/etc/lockerd/lockerd.toml"]
