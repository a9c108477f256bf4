"""The ``AcknowledgeAlarm`` flow: someone has seen an alarm (``alarms.py``).

Refused ``unknown_alarm`` when the alarm is not active (it may have cleared
meanwhile); a second acknowledgement keeps the first and changes nothing.
"""

from __future__ import annotations

from dataclasses import replace

from .alarms import active_alarms
from .commands import AcknowledgeAlarm
from .decision import Tx
from .errors import UnknownAlarm
from .replies import Accepted
from .state import AlarmAck


def acknowledge_alarm(tx: Tx, command: AcknowledgeAlarm) -> None:
    alarm = next((a for a in active_alarms(tx.state) if a.alarm_id == command.alarm_id), None)
    if alarm is None:
        raise UnknownAlarm("no such alarm now (it may have cleared)", alarm_id=command.alarm_id)
    if alarm.acknowledged is not None:
        tx.reply = Accepted("already acknowledged")
        return
    ack = AlarmAck(f"central:{command.actor.operator}", tx.now.wall_s)
    tx.state = replace(tx.state, alarm_acks={**tx.state.alarm_acks, alarm.alarm_id: ack})
    tx.record(
        command.actor,
        "acknowledge_alarm",
        granted=True,
        compartment=alarm.compartment,
        detail=alarm.alarm_id,
    )
    tx.reply = Accepted()
