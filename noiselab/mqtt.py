"""paho-mqtt 2.x client construction shared by the ingest and the simulator.

Always ``CallbackAPIVersion.VERSION2`` and MQTT v5. A persistent session needs both
``clean_start=False`` and a non-zero Session Expiry Interval, and the same client id after a
restart; then the broker keeps the subscription and queues QoS 1 messages while the client is
away (up to Mosquitto's ``max_queued_messages``).
"""

from __future__ import annotations

import ssl

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from noiselab.config import MqttUrl

__all__ = ["connect_properties", "new_client", "stop_client"]


def new_client(url: MqttUrl, client_id: str, *, manual_ack: bool = False) -> mqtt.Client:
    """A paho client for ``url`` (credentials and TLS applied), not yet connected."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv5,
        manual_ack=manual_ack,
    )
    if url.username:
        client.username_pw_set(url.username, url.password)
    if url.tls:
        client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
    return client


def connect_properties(
    *, session_expiry_s: int = 0, receive_maximum: int | None = None
) -> Properties:
    """CONNECT properties: session expiry (seconds, 0 = end with the connection) and the
    number of unacknowledged QoS 1 messages the broker may have in flight to us."""
    props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    if session_expiry_s:
        props.SessionExpiryInterval = session_expiry_s
    if receive_maximum:
        props.ReceiveMaximum = receive_maximum
    return props


def stop_client(client: mqtt.Client) -> None:
    """Disconnect, stop the network thread and close every socket the client holds.

    paho closes its network socket on a clean disconnect, but the socket pair that wakes its
    network thread (made by ``loop_start``) only in ``Client.__del__``. Our clients sit in
    reference cycles (their callbacks are bound methods of the object holding them), so that
    runs late, in the cyclic garbage collector, possibly after the sockets' own finalizers:
    the descriptors stay open until then and Python warns about unclosed sockets. Closing
    them here, once the thread has stopped, releases them at once.
    """
    client.disconnect()
    client.loop_stop()
    leftover = client.socket()
    if leftover is not None:
        leftover.close()
    for name in ("_sockpairR", "_sockpairW"):  # paho-mqtt 2.x's wake-up pair
        pair_end = getattr(client, name, None)
        if pair_end is not None:
            pair_end.close()
            setattr(client, name, None)
