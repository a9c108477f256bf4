"""A reference central system for a fleet of lockers: the events side, scaled out.

A starting point for a platform team, kept beside the locker's code because it is
the other half of the contract (docs/asyncapi, docs/fleet.md). It imports nothing
of the locker's packages: everything it knows comes from the contract.

The broker is a RabbitMQ cluster whose MQTT plugin the lockers connect to (MQTT
3.1.1). The plugin publishes every MQTT message into the topic exchange
``amq.topic`` with the topic as routing key, ``/`` turned into ``.`` (topics.py).

  consumer.py   one consumer process: the quorum queue ``central.events`` bound to
                ``lockers.v1.*.*.events``, shared by every consumer process
                (competing consumers); each event stored, then acknowledged to the
                broker
  mqtt_consumer.py  the same on an MQTT 5 broker instead of RabbitMQ: the processes
                share the events through the shared subscription
                ``$share/central/lockers/v1/+/+/events``, each event stored, then its
                PUBACK sent
  store.py      PostgreSQL: events stored idempotently by ``event_id``; per locker
                the contiguous prefix of stored seqs, which is what the locker is
                told (``events/ack``), whichever process stored which event
  commands.py   commands to lockers over AMQP (published into ``amq.topic``) and
                their replies from the quorum queue ``central.replies``, matched by
                ``command_id``
  topics.py     MQTT topic <-> AMQP routing key
  __main__.py   ``python -m central init-db | register | consume``

Theory of operation (one event):

1. A locker publishes the event at QoS 1 on ``lockers/v1/{site}/{locker}/events``;
   RabbitMQ routes it into ``central.events`` (a quorum queue: replicated by Raft on
   the cluster's nodes, so a node's death loses none of it).
2. Some consumer process receives it. The locker is unknown (not in ``lockers``):
   nothing is stored, the consumer logs it and drops the message. Known: one
   PostgreSQL transaction locks the locker's row, inserts the event (``ON CONFLICT
   DO NOTHING``: a duplicate, same ``event_id``, stores nothing new), then advances
   the locker's ``acked_seq`` over the contiguous run of stored seqs.
3. After the commit, the consumer acknowledges the delivery to RabbitMQ and notes
   the prefix; every 0.2 s it publishes, per locker, the highest prefix noted
   (``{boot_id, seq}`` to ``lockers/v1/{site}/{locker}/events/ack`` through
   ``amq.topic``). Dying before the delivery's ack leaves the message in the queue
   for another consumer; dying after the commit only delays the locker's ack: the
   next event or the locker's resend (a duplicate, which is acked again) carries it.

A seq the prefix has not reached is stored but not acknowledged: the locker sends it
again (after a reconnect, or when acks stall) until the hole before it is filled.
"""

from .store import EventOutcome, Store
from .topics import event_topic_parts, routing_key

__all__ = ["EventOutcome", "Store", "event_topic_parts", "routing_key"]
