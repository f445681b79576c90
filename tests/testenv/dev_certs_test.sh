#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# scripts/make-dev-certs.sh makes chains that verify, identities that match, a wrong CA that does not verify, and
# leaves a valid set untouched when run again.
set -euo pipefail
script=${1:?usage: dev_certs_test.sh path/to/make-dev-certs.sh}
dir=$(mktemp -d "${TMPDIR:-/tmp}/netmon-certs-test.XXXXXX")
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$script" "$dir" >/dev/null
for leaf in server agent client; do
  openssl verify -CAfile "$dir/ca.pem" "$dir/$leaf.pem" >/dev/null || fail "$leaf.pem does not verify against ca.pem"
  cn=$(openssl x509 -in "$dir/$leaf.pem" -noout -subject -nameopt multiline | sed -n 's/^ *commonName *= *//p')
  [[ "$cn" == "netmon-$leaf" ]] || fail "$leaf.pem has CN '$cn'"
  san=$(openssl x509 -in "$dir/$leaf.pem" -noout -ext subjectAltName)
  for want in "DNS:netmon-$leaf" "DNS:localhost" "IP Address:127.0.0.1" "IP Address:0:0:0:0:0:0:0:1"; do
    grep -qF "$want" <<<"$san" || fail "$leaf.pem lacks SAN $want: $san"
  done
  # Each key belongs to its certificate.
  [[ "$(openssl pkey -in "$dir/$leaf-key.pem" -pubout)" == "$(openssl x509 -in "$dir/$leaf.pem" -noout -pubkey)" ]] ||
    fail "$leaf-key.pem does not match $leaf.pem"
done
openssl verify -CAfile "$dir/other-ca.pem" "$dir/other-client.pem" >/dev/null || fail "other-client vs other-ca"
if openssl verify -CAfile "$dir/ca.pem" "$dir/other-client.pem" >/dev/null 2>&1; then
  fail "other-client.pem verifies against ca.pem: the wrong-CA certificate is not wrong"
fi
openssl x509 -in "$dir/client.pem" -noout -ext extendedKeyUsage | grep -q "Client Authentication" ||
  fail "client.pem lacks clientAuth"
openssl x509 -in "$dir/server.pem" -noout -ext extendedKeyUsage | grep -q "Server Authentication" ||
  fail "server.pem lacks serverAuth"

before=$(sha256sum "$dir"/*.pem)
"$script" "$dir" >/dev/null
[[ "$(sha256sum "$dir"/*.pem)" == "$before" ]] || fail "a second run changed a valid set"
rm "$dir/agent.pem"
"$script" "$dir" >/dev/null
openssl verify -CAfile "$dir/ca.pem" "$dir/agent.pem" "$dir/client.pem" >/dev/null ||
  fail "regenerated set does not verify"
echo "dev certs OK"
