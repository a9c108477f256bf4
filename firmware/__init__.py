"""The reference lock board's firmware (MicroPython, RP2040), and its twin.

    regmap      register-map constants, generated from protocol/reference_board.py
    core/       the pure core: runs unchanged under CPython and MicroPython
      ticks       wrapping microsecond arithmetic (MicroPython's ticks_diff rule)
      crc         CRC-16/MODBUS over a buffer range, table driven
      rtu         the RTU slave framer: frames delimited by t3.5, broken by a t1.5 gap
      inputs      bit-parallel debouncing of the door, item and feedback inputs
      board       the register map: identity, status block, latches, pulses, writes
      settings    settings in flash: encoding, validation, write-new-then-rename
      firmware    the main loop: HAL in, board, framer, watchdog, settings out
    hal/        the hardware behind the core
      sim         buffers and a settable clock: the simulator and the tests
      sim_wire    a line protocol over the sim HAL (the MicroPython twin's harness)
      rp2         RP2040: UART + RS-485 direction, shift registers, WDT, flash
    main        the board's entry point (rp2 HAL + core)
    tools/      CPython tooling: regmap generator, bundle build, flash (`python -m firmware`)

What runs on a board imports nothing but what MicroPython has: no
dataclasses, no typing at run time, no `from __future__`. Annotations are
plain builtins or strings, which MicroPython ignores and mypy reads.
"""
