"""Simulated RS-485 lock boards for the document locker (`locker-sim`).

Layout: a pure core, then the shell around it.

    physics          one compartment: lock, door, items, sensors, the person
    boards/          board firmware models, pure: on_request(frame, now), tick(now)
      reference      our lock board (protocol/reference_board.py is the contract)
      relay          Waveshare-style relay + digital-input module
    faults           seeded fault injection for one board's replies
    line             one RS-485 line: the wire's timing, frames by silence,
                     counters and transaction records; pure
    world            every compartment and line of a layout; runs the timers
    layout           the TOML layout (and the flags' layout), validated
    toml_fields      typed TOML access whose errors name the key
    commands         the command table shared by control, scenarios and CLI
    arguments        command arguments, checked before anything runs
    scenario         timed scripts of commands
    --- shell ---
    pty_port         a pseudo-terminal behind a stable symlink; unplug/replug
    tcp_port         RTU framing over TCP on 127.0.0.1
    front            one thread per line: pacing bytes at the baud
    control          JSON lines on 127.0.0.1
    runtime          Simulator: world + fronts + timer thread + control
    client, render   the CLI's side of the control channel, rich tables
    cli              `locker-sim`

Of the project, only `protocol` is imported.
"""
