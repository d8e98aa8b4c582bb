#!/usr/bin/env bash
# `make run`: migrate, seed the demo world, then serve the provider and the
# demo department app until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .run

export IDP_ISSUER=${IDP_ISSUER:-http://localhost:8080}
export IDP_LISTEN=${IDP_LISTEN:-127.0.0.1:8080}
export IDP_DEMO_RP_URL=${IDP_DEMO_RP_URL:-http://localhost:8081}

./bin/idp migrate
./bin/idp demo --json > .run/demo.json

./bin/idp serve 2> >(tee .run/idp.log >&2) &
idp_pid=$!
DEMO_RP_URL=$IDP_DEMO_RP_URL ./bin/demo-rp --demo-json .run/demo.json 2> >(tee .run/demo-rp.log >&2) &
rp_pid=$!
trap 'kill $idp_pid $rp_pid 2>/dev/null || true' EXIT INT TERM

for _ in $(seq 1 60); do
  curl -fsS "$IDP_ISSUER/readyz" >/dev/null 2>&1 && break
  sleep 0.5
done

cat <<TXT

  Provider (OP):      $IDP_ISSUER
  Discovery:          $IDP_ISSUER/.well-known/openid-configuration
  Demo department app: $IDP_DEMO_RP_URL   <- open this and press 登入 / Sign in
  Self-service portal: $IDP_ISSUER/account   (個人資料, 變更密碼; the entity account signs in here)
  Activation pages:    $IDP_ISSUER/activate  (activation codes from \`idp entity create\` appear in this log)

  Sign in with entity number 02-000021 and one of these staff logins:
TXT
./bin/idp demo | sed -n 's/^  staff login/   /p'
cat <<TXT

  Everything (client secrets included) is in .run/demo.json. Ctrl-C stops both.

TXT
wait -n $idp_pid $rp_pid
