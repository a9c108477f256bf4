"""A throwaway CA, a broker certificate for 127.0.0.1 and client certificates, made with
the ``openssl`` command line (the ``cryptography`` package is not a dependency here)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

OPENSSL = shutil.which("openssl")
_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]


@dataclass(frozen=True)
class Pki:
    directory: Path

    @property
    def ca(self) -> Path:
        return self.directory / "ca.crt"

    def cert(self, name: str) -> Path:
        return self.directory / f"{name}.crt"

    def key(self, name: str) -> Path:
        return self.directory / f"{name}.key"


def _run(*args: str, cwd: Path) -> None:
    assert OPENSSL is not None
    subprocess.run([OPENSSL, *args], cwd=cwd, check=True, capture_output=True, timeout=30)


def make_pki(directory: Path, *, clients: dict[str, str], authority: str = "ca") -> Pki:
    """CA ``authority``, server cert ``broker`` (IP 127.0.0.1), ``clients``: name -> CN."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = f"{authority}.crt"
    _run("req", "-x509", *_KEY, "-keyout", f"{authority}.key", "-out", ca, "-days", "2",
         "-subj", f"/CN={authority} test authority", cwd=directory)  # fmt: skip
    (directory / "server.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    leaves = {"broker": "localhost", **clients}
    for name, common_name in leaves.items():
        subject = "/CN=" + common_name.replace("/", "\\/")
        _run("req", *_KEY, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subject,
             cwd=directory)  # fmt: skip
        extra = ["-extfile", "server.ext"] if name == "broker" else []
        _run("x509", "-req", "-in", f"{name}.csr", "-CA", ca, "-CAkey", f"{authority}.key",
             "-CAcreateserial", "-out", f"{name}.crt", "-days", "2", *extra,
             cwd=directory)  # fmt: skip
    if authority != "ca":
        (directory / "ca.crt").write_bytes((directory / ca).read_bytes())
    return Pki(directory)
