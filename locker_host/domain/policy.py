"""Every tunable number of the domain, in one frozen value.

``*_timeout_s`` are durations on the monotonic clock (opens, doors, lockouts);
``*_s`` offsets of business deadlines are applied to wall-clock epoch seconds.
The defaults are starting points from the field notes, not measurements.
"""

from __future__ import annotations

from dataclasses import dataclass

_DAY_S = 86_400.0


@dataclass(frozen=True)
class LockerPolicy:
    # Lock pulse: 500 ms for electromagnetic locks, 1000 ms for motor locks (Kerong wiring guide).
    pulse_ms: int = 500
    # Gap between two pulses that share a board or a power supply, so the solenoids' inrush
    # currents do not add up (eform drives one relay at a time, >= 300 ms apart).
    pulse_gap_ms: int = 300
    max_simultaneous_pulses: int = 2
    max_pulses_per_power_supply: int = 1
    # Unlock acknowledged is not door opened: how long the door has to report "open"
    # before we read the board, and again after the one retry pulse (Open-Locker ADR-0040).
    open_confirm_timeout_s: float = 10.0
    door_ajar_timeout_s: float = 120.0
    # Degraded compartments (no door switch or no item sensor): how long the kiosk
    # waits for a person to confirm by hand before the default rule applies.
    hand_confirm_timeout_s: float = 90.0
    # Business deadlines (wall clock).
    reminder_offsets_s: tuple[float, ...] = (2 * _DAY_S, 0.5 * _DAY_S)
    dossier_collection_sla_s: float = 2 * _DAY_S
    # Pickup and drop-off codes: failures per locker within a window lock code entry out.
    code_max_failures: int = 5
    code_failure_window_s: float = 600.0
    code_lockout_s: float = 1_800.0
    # A weak ID number with a wrong code: per-owner attempts before a lockout.
    code_max_failures_per_owner: int = 3
    # Code length: an attacker's chance to hit *any* live code over the horizon stays
    # below ``code_max_guess_success`` (see ``pickup_codes.required_code_length``).
    code_horizon_s: float = 14 * _DAY_S
    code_max_guess_success: float = 0.01
    code_min_length: int = 6
    # Accessible (low) compartments: reach range 15 to 48 inches from the floor
    # (Amazon Hub / ADA); a compartment whose handle is at most this high is "low".
    accessible_max_height_mm: int = 1_220

    def __post_init__(self) -> None:
        if self.max_simultaneous_pulses < 1 or self.max_pulses_per_power_supply < 1:
            raise ValueError("at least one pulse must be allowed at a time")
        if self.pulse_ms <= 0 or self.pulse_gap_ms < 0:
            raise ValueError("pulse length must be positive and the gap non-negative")
        if any(offset <= 0 for offset in self.reminder_offsets_s):
            raise ValueError("reminder offsets are durations before the deadline")
        if not 0 < self.code_max_guess_success < 1:
            raise ValueError("code_max_guess_success is a probability")
        if not 4 <= self.code_min_length <= 16:
            raise ValueError("codes have 4 to 16 digits")

    def reminder_offsets_descending(self) -> tuple[float, ...]:
        return tuple(sorted(self.reminder_offsets_s, reverse=True))

    def reminders_due(self, deadline_wall_s: float, now_wall_s: float) -> int:
        """How many reminders are due by ``now``; those due before an item arrives are skipped."""
        return sum(deadline_wall_s - offset <= now_wall_s for offset in self.reminder_offsets_s)
