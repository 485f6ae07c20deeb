# Sourced by scripts/test and scripts/demo: a project virtualenv with noiselab installed,
# and the Debian packages the real parts need (root installs them; others get a clear message).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# Debian installs the mosquitto broker in /usr/sbin, outside a normal user's PATH.
export PATH="$PATH:/usr/sbin:/sbin"
PY="${PYTHON:-python3}"
need_apt=()
# Debian ships venv's pip bootstrap separately (python3-venv).
"$PY" -c "import ensurepip" >/dev/null 2>&1 || need_apt+=(python3-venv)
# Each argument is package:binary; a binary given as an absolute path (a glob) is looked for
# there instead of on PATH (Debian's PostgreSQL: /usr/lib/postgresql/*/bin/initdb).
for pkg_bin in "$@"; do
    pkg="${pkg_bin%%:*}"; bin="${pkg_bin#*:}"
    if [[ "$bin" == /* ]]; then
        compgen -G "$bin" >/dev/null || need_apt+=("$pkg")
    else
        command -v "$bin" >/dev/null 2>&1 || need_apt+=("$pkg")
    fi
done
if [ "${#need_apt[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing ${need_apt[*]} with apt-get" >&2
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
    else
        echo "missing: ${need_apt[*]} — install them (e.g. sudo apt-get install -y ${need_apt[*]}) and rerun" >&2
        exit 1
    fi
fi

if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
stamp=.venv/.noiselab-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q -e ".[dev]"
    touch "$stamp"
fi
export PATH="$ROOT/.venv/bin:$PATH"
