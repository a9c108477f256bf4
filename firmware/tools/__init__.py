"""CPython-only tooling for the firmware: the register-map generator, the
bundle builder and the flasher (`python -m firmware`). Nothing here goes
onto a board."""
