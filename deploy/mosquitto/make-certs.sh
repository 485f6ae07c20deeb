#!/bin/sh
# Makes a private certificate authority and a server certificate for the broker's TLS listener
# (port 8883), for testing or a closed installation where every sensor can be given the CA:
#
#   sh deploy/mosquitto/make-certs.sh OUT_DIR HOSTNAME [HOSTNAME|IP ...]
#
# OUT_DIR receives ca.crt (give it to the sensors: they verify the broker with it), ca.key
# (keep it offline: whoever holds it can impersonate the broker), server.crt and server.key
# (for the broker; the compose stack reads them from ./secrets/mqtt-tls/). Each HOSTNAME or IP
# becomes a subjectAltName: clients check the name they connect to against these, not the CN.
# Existing files are never overwritten; remove them to start again. With a public name, use a
# certificate from a public CA instead (Let's Encrypt: docs/deployment.md).
# DAYS (default 825) sets the server certificate's lifetime; the CA's is ten years.
set -eu
if [ "$#" -lt 2 ]; then
    echo "usage: $0 OUT_DIR HOSTNAME [HOSTNAME|IP ...]" >&2
    exit 2
fi
out="$1"
shift
days="${DAYS:-825}"
mkdir -p "$out"
for file in ca.crt ca.key server.crt server.key; do
    if [ -e "$out/$file" ]; then
        echo "$out/$file exists; not overwriting it" >&2
        exit 1
    fi
done
san=""
for name in "$@"; do
    case "$name" in
        *:*) entry="IP:$name" ;;  # IPv6
        *[!0-9.]*) entry="DNS:$name" ;;  # anything but digits and dots is a host name
        *) entry="IP:$name" ;;
    esac
    san="${san:+$san,}$entry"
done
umask 077
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# The CA: an EC P-256 key and a self-signed certificate that may sign server certificates only.
openssl ecparam -name prime256v1 -genkey -noout -out "$out/ca.key"
openssl req -new -x509 -sha256 -days 3650 -key "$out/ca.key" -out "$out/ca.crt" \
    -subj "/O=noiselab/CN=noiselab MQTT test CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign"
# The server: its own key, a request, and the CA's signature with the names as subjectAltName.
openssl ecparam -name prime256v1 -genkey -noout -out "$out/server.key"
openssl req -new -sha256 -key "$out/server.key" -out "$work/server.csr" -subj "/O=noiselab/CN=$1"
cat > "$work/server.ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=$san
EXT
openssl x509 -req -sha256 -days "$days" -in "$work/server.csr" -CA "$out/ca.crt" \
    -CAkey "$out/ca.key" -CAcreateserial -CAserial "$work/ca.srl" -extfile "$work/server.ext" \
    -out "$out/server.crt" 2>/dev/null
chmod 0644 "$out/ca.crt" "$out/server.crt"
echo "CA and server certificate for $san written to $out"
