#!/usr/bin/env bash
# Makes sure moto_server (the AWS API emulator the contract suite, test/contract/, runs against) is on PATH.
# When it is missing, installs moto pinned, with the extras of the services the suite uses, into python3's
# environment. Exits non-zero, saying why, when that fails. Usage: scripts/ensure-moto.sh
set -uo pipefail

MOTO_VERSION=5.2.1
# server: moto_server itself (flask, flask-cors). The services' own extras, for the services the suite and the
# packaged-stack checks touch: events (jsonpath_ng), dynamodb and s3 (py-partiql-parser, PyYAML),
# cloudformation (cfn-lint, …). secretsmanager, acmpca and sts need nothing beyond moto's core.
EXTRAS=server,secretsmanager,events,dynamodb,acmpca,s3,cloudformation,sts
REQUIREMENT="moto[${EXTRAS}]==${MOTO_VERSION}"

installed_version() {
  python3 -c 'import moto; print(moto.__version__)' 2>/dev/null
}

if command -v moto_server >/dev/null 2>&1; then
  version=$(installed_version || true)
  if [ -n "$version" ] && [ "$version" != "$MOTO_VERSION" ]; then
    echo "ensure-moto: warning: moto_server is on PATH but python3 has moto $version; the contract suite pins $MOTO_VERSION" >&2
  fi
  echo "ensure-moto: moto_server found at $(command -v moto_server)${version:+ (moto $version)}"
  exit 0
fi

if ! command -v python3 >/dev/null 2>&1; then
  echo "ensure-moto: moto_server is missing and python3 is not installed: install Python 3, then run: python3 -m pip install '$REQUIREMENT'" >&2
  exit 1
fi

# A project-local virtual environment, made earlier (below) or by hand: the test harness looks there too.
VENV="$(cd "$(dirname "$0")/.." && pwd)/.venv-moto"
# Written last: a venv whose install was cut off has no marker and is made again.
COMPLETE="$VENV/.moto-$MOTO_VERSION-installed"
if [ -x "$VENV/bin/moto_server" ] && [ -f "$COMPLETE" ]; then
  echo "ensure-moto: moto_server found at $VENV/bin/moto_server"
  exit 0
fi

echo "ensure-moto: moto_server is missing; installing $REQUIREMENT"
if ! python3 -m pip install --disable-pip-version-check "$REQUIREMENT"; then
  # An externally managed Python (PEP 668) refuses pip: a virtual environment of the project's own does not.
  echo "ensure-moto: pip refused; installing into $VENV instead" >&2
  if ! { python3 -m venv --clear "$VENV" && "$VENV/bin/python" -m pip install --disable-pip-version-check "$REQUIREMENT" && touch "$COMPLETE"; }; then
    echo "ensure-moto: could not install $REQUIREMENT (pip, then a virtual environment in $VENV); the contract suite (test/contract/) cannot run without moto_server." >&2
    exit 1
  fi
  echo "ensure-moto: moto_server installed at $VENV/bin/moto_server"
  exit 0
fi
# pyenv keeps its shims in step with installed scripts only when asked.
if command -v pyenv >/dev/null 2>&1; then pyenv rehash || true; fi
hash -r
if ! command -v moto_server >/dev/null 2>&1; then
  scripts=$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null || echo '?')
  echo "ensure-moto: moto $MOTO_VERSION is installed but moto_server is not on PATH (pip put it in $scripts): add that folder to PATH" >&2
  exit 1
fi
echo "ensure-moto: moto_server installed at $(command -v moto_server) (moto $(installed_version))"
