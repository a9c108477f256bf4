"""`python -m locker_host.daemon ...` is `lockerd ...`."""

import sys

from .cli import main

sys.exit(main())
