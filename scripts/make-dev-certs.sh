#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Throwaway mTLS material for development and tests: a CA with server, agent and client certificates, plus an
# unrelated second CA ("other-ca") with its own client certificate for wrong-CA tests. EC P-256 keys (PKCS#8).
#
#   scripts/make-dev-certs.sh OUTDIR
#
# Writes ca.pem (+ca-key.pem), server.pem/server-key.pem, agent.pem/agent-key.pem, client.pem/client-key.pem,
# other-ca.pem (+other-ca-key.pem), other-client.pem/other-client-key.pem. Every leaf carries its name as CN and
# DNS SAN plus DNS:localhost, IP:127.0.0.1, IP:::1. Idempotent: a complete, valid set that stays valid for another
# day is left untouched; anything else is regenerated as a whole (a half-old set could mix CAs).
set -euo pipefail

if [[ $# -ne 1 || "$1" == -* ]]; then
  echo "usage: $0 OUTDIR" >&2
  exit 64
fi
out=$1
days=30
files=(ca.pem ca-key.pem server.pem server-key.pem agent.pem agent-key.pem client.pem client-key.pem
       other-ca.pem other-ca-key.pem other-client.pem other-client-key.pem)

set_is_valid() {
  local f
  for f in "${files[@]}"; do [[ -s "$out/$f" ]] || return 1; done
  for f in server agent client; do
    openssl verify -CAfile "$out/ca.pem" "$out/$f.pem" >/dev/null 2>&1 || return 1
    openssl x509 -in "$out/$f.pem" -noout -checkend 86400 >/dev/null 2>&1 || return 1
  done
  openssl verify -CAfile "$out/other-ca.pem" "$out/other-client.pem" >/dev/null 2>&1 || return 1
  openssl x509 -in "$out/other-client.pem" -noout -checkend 86400 >/dev/null 2>&1 || return 1
}

mkdir -p "$out"
if set_is_valid; then
  echo "make-dev-certs: $out is up to date"
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/netmon-certs.XXXXXX")
trap 'rm -rf "$work"' EXIT
umask 077

new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# new_ca NAME CN
new_ca() {
  new_key "$work/$1-key.pem"
  openssl req -new -x509 -key "$work/$1-key.pem" -subj "/O=netmon dev/CN=$2" -days "$days" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" \
    -out "$work/$1.pem"
}

# new_leaf NAME CN CA EKU
new_leaf() {
  local name=$1 cn=$2 ca=$3 eku=$4
  new_key "$work/$name-key.pem"
  openssl req -new -key "$work/$name-key.pem" -subj "/O=netmon dev/CN=$cn" -out "$work/$name.csr"
  cat >"$work/$name.ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=$eku
subjectAltName=DNS:$cn,DNS:localhost,IP:127.0.0.1,IP:::1
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EXT
  openssl x509 -req -in "$work/$name.csr" -CA "$work/$ca.pem" -CAkey "$work/$ca-key.pem" \
    -set_serial "0x$(openssl rand -hex 16)" -days "$days" -extfile "$work/$name.ext" \
    -out "$work/$name.pem" 2>/dev/null
}

new_ca ca netmon-dev-ca
new_leaf server netmon-server ca serverAuth
new_leaf agent netmon-agent ca serverAuth,clientAuth  # serves the poller, calls netmon-server
new_leaf client netmon-client ca clientAuth
new_ca other-ca netmon-other-dev-ca
new_leaf other-client netmon-client other-ca clientAuth  # same identity, wrong CA

chmod 644 "$work"/*.pem
chmod 600 "$work"/*-key.pem
for f in "${files[@]}"; do mv -f "$work/$f" "$out/$f"; done
echo "make-dev-certs: wrote ${#files[@]} files to $out"
