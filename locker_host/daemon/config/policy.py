"""`[policy]` and `[timers]` (the domain's `LockerPolicy`), `[housekeeping]`,
`[kiosk]` and `[clock]`.

`[timers]` holds the durations, `[policy]` the counts and limits; both keep
the names of `LockerPolicy`'s fields, and an absent key keeps its default.
Durations are seconds (`*_s`), pulses milliseconds (`*_ms`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from locker_host.app import TIMESYNCD_FLAG
from locker_host.domain import LockerPolicy

from .fields import ConfigError, Table

_DAY = 86_400.0
_YEAR = 366 * _DAY


@dataclass(frozen=True)
class Housekeeping:
    personal_data_retention_s: float = 30 * _DAY
    purge_interval_s: float = 3_600.0
    command_cleanup_interval_s: float = 3_600.0
    checkpoint_interval_s: float = 600.0
    command_reply_grace_s: float = _DAY  # a central command's reply is kept this long


@dataclass(frozen=True)
class KioskSettings:
    # A drop-off armed at the kiosk (or with `lockerd admin arm_dropoff`) waits this
    # long for the citizen's card; after it, a swipe is a pickup again.
    dropoff_arm_timeout_s: float = 120.0
    # An ESC/POS receipt printer's device file (/dev/usb/lp0); None: no printed receipt.
    receipt_printer: Path | None = None


@dataclass(frozen=True)
class ClockSettings:
    synchronised_flag: Path = TIMESYNCD_FLAG
    wall_recheck_s: float = 60.0


def parse_policy(root: Table) -> LockerPolicy:
    default = LockerPolicy()
    p, t = root.table("policy"), root.table("timers")
    reminders = t.numbers("reminder_offsets_s", default.reminder_offsets_s)
    if any(offset <= 0 for offset in reminders):
        raise ConfigError(t.where("reminder_offsets_s"), "offsets are durations before, > 0")
    guess = p.number("code_max_guess_success", default.code_max_guess_success, lo=0.0, hi=1.0)
    if not 0 < guess < 1:
        raise ConfigError(p.where("code_max_guess_success"), "a probability between 0 and 1")
    policy = LockerPolicy(
        pulse_ms=p.integer("pulse_ms", default.pulse_ms, lo=50, hi=10_000),
        pulse_gap_ms=p.integer("pulse_gap_ms", default.pulse_gap_ms, lo=0, hi=10_000),
        max_simultaneous_pulses=p.integer(
            "max_simultaneous_pulses", default.max_simultaneous_pulses, lo=1, hi=48
        ),
        max_pulses_per_power_supply=p.integer(
            "max_pulses_per_power_supply", default.max_pulses_per_power_supply, lo=1, hi=48
        ),
        open_confirm_timeout_s=t.positive(
            "open_confirm_timeout_s", default.open_confirm_timeout_s, hi=600.0
        ),
        door_ajar_timeout_s=t.positive("door_ajar_timeout_s", default.door_ajar_timeout_s, hi=_DAY),
        hand_confirm_timeout_s=t.positive(
            "hand_confirm_timeout_s", default.hand_confirm_timeout_s, hi=3_600.0
        ),
        reminder_offsets_s=reminders,
        dossier_collection_sla_s=t.positive(
            "dossier_collection_sla_s", default.dossier_collection_sla_s, hi=_YEAR
        ),
        code_max_failures=p.integer("code_max_failures", default.code_max_failures, lo=1, hi=1000),
        code_failure_window_s=t.positive(
            "code_failure_window_s", default.code_failure_window_s, hi=_DAY
        ),
        code_lockout_s=t.positive("code_lockout_s", default.code_lockout_s, hi=_DAY),
        code_max_failures_per_owner=p.integer(
            "code_max_failures_per_owner", default.code_max_failures_per_owner, lo=1, hi=1000
        ),
        code_horizon_s=t.positive("code_horizon_s", default.code_horizon_s, hi=_YEAR),
        code_max_guess_success=guess,
        code_min_length=p.integer("code_min_length", default.code_min_length, lo=4, hi=16),
        accessible_max_height_mm=p.integer(
            "accessible_max_height_mm", default.accessible_max_height_mm, lo=0, hi=3_000
        ),
    )
    p.finish()
    t.finish()
    return policy


def parse_housekeeping(root: Table) -> Housekeeping:
    t = root.table("housekeeping")
    default = Housekeeping()
    days = t.positive(
        "personal_data_retention_days", default.personal_data_retention_s / _DAY, hi=3660.0
    )
    housekeeping = Housekeeping(
        personal_data_retention_s=days * _DAY,
        purge_interval_s=t.positive("purge_interval_s", default.purge_interval_s, hi=_DAY),
        command_cleanup_interval_s=t.positive(
            "command_cleanup_interval_s", default.command_cleanup_interval_s, hi=_DAY
        ),
        checkpoint_interval_s=t.positive(
            "checkpoint_interval_s", default.checkpoint_interval_s, hi=_DAY
        ),
        command_reply_grace_s=t.positive(
            "command_reply_grace_s", default.command_reply_grace_s, hi=_YEAR
        ),
    )
    t.finish()
    return housekeeping


def parse_kiosk(root: Table) -> KioskSettings:
    t = root.table("kiosk")
    printer = t.optional_text("receipt_printer")
    if printer is not None and not Path(printer).is_absolute():
        raise ConfigError(t.where("receipt_printer"), "an absolute device path, e.g. /dev/usb/lp0")
    settings = KioskSettings(
        t.positive("dropoff_arm_timeout_s", KioskSettings.dropoff_arm_timeout_s, hi=3_600.0),
        None if printer is None else Path(printer),
    )
    t.finish()
    return settings


def parse_clock(root: Table, base: Path) -> ClockSettings:
    t = root.table("clock")
    settings = ClockSettings(
        t.path("synchronised_flag", base, str(TIMESYNCD_FLAG)),
        t.positive("wall_recheck_s", ClockSettings.wall_recheck_s, hi=3_600.0),
    )
    t.finish()
    return settings
