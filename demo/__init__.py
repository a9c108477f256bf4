"""`lockerd demo`: the whole locker on one machine (README, "The demo").

Not part of the shipping daemon: it drives the simulator, so it lives beside
it, and `lockerd` imports it only for `lockerd demo` (tests/test_architecture.py
proves that `lockerd run` never loads it).

    run        run_demo: the children started in order, the hall seeded, the
               wait, the stop in reverse order
    children   the child processes and bounded waits on them
    hall       the hall drawn for one run: configuration, secrets, people
    seed       the hall seeded through the daemon's front doors
"""

from .run import DemoOptions, run_demo

__all__ = ["DemoOptions", "run_demo"]
