#!/bin/sh
# Fills the broker's config volume (/mosquitto/config): mosquitto.conf and acl from this
# directory, and a password file hashed by mosquitto_passwd for
#   - the ingest (user noiselab-ingest, MQTT_INGEST_PASSWORD),
#   - the simulator (user noiselab-sim, MQTT_SIM_PASSWORD; only when set),
#   - the FIWARE re-publisher (user noiselab-fiware, MQTT_FIWARE_PASSWORD; only when set),
#   - every sensor listed in /secrets/mqtt-sensors.txt, one "SENSOR_ID PASSWORD" per line
#     (a sensor's user name is its id: the ACL lets it publish under its own id only),
# and the TLS listener's certificate and key: /secrets/mqtt-tls/server.crt and server.key
# (make-certs.sh makes a test pair; docs/deployment.md says how to use a public CA's). Without
# them it fails, so the broker never starts without TLS.
# Runs in the eclipse-mosquitto image before the broker starts; rerun it to change passwords.
# The directories can be moved with MOSQUITTO_CONFIG_DIR, DEPLOY_DIR and SECRETS_DIR (tests do).
set -eu
out="${MOSQUITTO_CONFIG_DIR:-/mosquitto/config}"
deploy="${DEPLOY_DIR:-/deploy}"
secrets="${SECRETS_DIR:-/secrets}"
tmp="$out/passwd.new"
: "${MQTT_INGEST_PASSWORD:?MQTT_INGEST_PASSWORD is not set}"
for file in server.crt server.key; do
    if [ ! -s "$secrets/mqtt-tls/$file" ]; then
        echo "$secrets/mqtt-tls/$file is missing: make it (deploy/mosquitto/make-certs.sh) or" \
            "copy your certificate there (docs/deployment.md)" >&2
        exit 1
    fi
done
cp "$deploy/mosquitto.conf" "$deploy/acl" "$out/"
mkdir -p "$out/certs"
cp "$secrets/mqtt-tls/server.crt" "$out/certs/server.crt"
(umask 077 && cp "$secrets/mqtt-tls/server.key" "$out/certs/server.key.new")
chmod 0600 "$out/certs/server.key.new"
mv "$out/certs/server.key.new" "$out/certs/server.key"
rm -f "$tmp"
touch "$tmp"
chmod 0600 "$tmp"
mosquitto_passwd -b "$tmp" noiselab-ingest "$MQTT_INGEST_PASSWORD"
if [ -n "${MQTT_SIM_PASSWORD:-}" ]; then
    mosquitto_passwd -b "$tmp" noiselab-sim "$MQTT_SIM_PASSWORD"
fi
if [ -n "${MQTT_FIWARE_PASSWORD:-}" ]; then
    mosquitto_passwd -b "$tmp" noiselab-fiware "$MQTT_FIWARE_PASSWORD"
fi
sensors=0
if [ -f "$secrets/mqtt-sensors.txt" ]; then
    while read -r sensor password; do
        case "$sensor" in ''|'#'*) continue ;; esac
        mosquitto_passwd -b "$tmp" "$sensor" "$password"
        sensors=$((sensors + 1))
    done < "$secrets/mqtt-sensors.txt"
fi
if id mosquitto >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    chown mosquitto:mosquitto "$tmp" "$out/acl" "$out/mosquitto.conf" "$out/certs/server.key"
fi
mv "$tmp" "$out/passwd"
echo "mosquitto config written: ingest, sim=${MQTT_SIM_PASSWORD:+yes}, fiware=${MQTT_FIWARE_PASSWORD:+yes}, $sensors sensors"
