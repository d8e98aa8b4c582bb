#!/usr/bin/env bash
# `make run`: migrate, seed the demo world, then serve the provider and the
# demo department app until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .run

export IDP_ISSUER=${IDP_ISSUER:-http://localhost:8080}
export IDP_LISTEN=${IDP_LISTEN:-127.0.0.1:8080}
export IDP_DEMO_RP_URL=${IDP_DEMO_RP_URL:-http://localhost:8081}
export DEMO_RP_LISTEN=${DEMO_RP_LISTEN:-127.0.0.1:8081}
# The operator's desk, on a loopback listener of its own.
export IDP_DESK_LISTEN=${IDP_DESK_LISTEN:-127.0.0.1:8082}
export IDP_OFFICER=${IDP_OFFICER:-demo.supervisor}

./bin/idp migrate
./bin/idp demo --json > .run/demo.json

# demo.desk, a supervisor who signs in at the desk: created (or, while it
# has not activated, reset) by demo.supervisor, which sends it an
# activation code; the console sender writes the code into .run/idp.log
# once the server runs, and the banner below shows it.
desk_officer=demo.desk
desk_state=$(./bin/idp officer list | awk -v n=$desk_officer '$1 == n { print $4 "/" $5 }')
case $desk_state in
  "") ./bin/idp officer create --name $desk_officer --display-name 示範主管 --role supervisor --mobile 66000099 >/dev/null ;;
  active/no) ./bin/idp officer reset --name $desk_officer >/dev/null ;;
esac

./bin/idp serve 2> >(tee .run/idp.log >&2) &
idp_pid=$!
DEMO_RP_URL=$IDP_DEMO_RP_URL ./bin/demo-rp --demo-json .run/demo.json 2> >(tee .run/demo-rp.log >&2) &
rp_pid=$!
trap 'kill $idp_pid $rp_pid 2>/dev/null || true' EXIT INT TERM

# ready: does the node answer GET /readyz with 200? Plain bash (/dev/tcp)
# and one HTTP/1.0 request, as a fresh Debian has no curl. It asks the
# listener itself, IDP_LISTEN, which always speaks plain HTTP, rather than
# the issuer URL, which may be https at a proxy or carry a path.
ready() {
  local host=${IDP_LISTEN%:*} port=${IDP_LISTEN##*:}
  host=${host#[}; host=${host%]}
  case $host in '' | 0.0.0.0) host=127.0.0.1 ;; ::) host=::1 ;; esac
  timeout 2 bash -c '
    exec 3<>"/dev/tcp/$1/$2" || exit 1
    printf "GET /readyz HTTP/1.0\r\nHost: %s\r\n\r\n" "$1" >&3
    read -r _ status _ <&3
    [ "$status" = 200 ]' ready "$host" "$port" 2>/dev/null
}
is_ready=
for _ in $(seq 1 60); do
  if ready; then is_ready=1; break; fi
  kill -0 $idp_pid 2>/dev/null || { echo "run: the provider stopped; see .run/idp.log" >&2; exit 1; }
  sleep 0.5
done
[ -n "$is_ready" ] || echo "run: the provider is not ready after 30 s (GET /readyz on $IDP_LISTEN); see .run/idp.log" >&2

# The desk officer's activation code, from the console sender's log line.
desk_code=
if [ "$desk_state" != active/yes ]; then
  for _ in $(seq 1 20); do
    desk_code=$(grep -o "登入名稱 $desk_officer 的啟動碼為 [^，]*" .run/idp.log | tail -1 | sed 's/.*啟動碼為 //') || true
    [ -n "$desk_code" ] && break
    sleep 0.5
  done
fi

# The demo app listens once it has read the provider's discovery: wait for
# its port too, so that the banner's address answers when it is printed.
rp_host=${DEMO_RP_LISTEN%:*} rp_port=${DEMO_RP_LISTEN##*:}
case $rp_host in '' | 0.0.0.0) rp_host=127.0.0.1 ;; esac
for _ in $(seq 1 40); do
  (exec 3<>"/dev/tcp/$rp_host/$rp_port") 2>/dev/null && break
  kill -0 $rp_pid 2>/dev/null || { echo "run: the demo app stopped; see .run/demo-rp.log" >&2; exit 1; }
  sleep 0.5
done

cat <<TXT

  Provider (OP):      $IDP_ISSUER
  Discovery:          $IDP_ISSUER/.well-known/openid-configuration
  Demo department app: $IDP_DEMO_RP_URL   <- open this and press 登入 / Sign in
  Self-service portal: $IDP_ISSUER/account   (個人資料, 變更密碼, 電子身份識別工具; the entity account signs in here)
  Activation pages:    $IDP_ISSUER/activate  (activation codes from \`idp entity create\` appear in this log)
  Guide:               $IDP_ISSUER/help      (every role's tasks, step by step, in three languages)

  Sign in with entity number 02-000021 and one of these staff logins:
TXT
# The text form of `idp demo` (cmd/idp/demo.go, printDemo): one line per
# account, "  staff login NAME password PW …" and "  entity account NAME
# password PW (…)".
demo_text=$(./bin/idp demo)
sed -n 's/^  staff login/   /p' <<<"$demo_text"
cat <<TXT

  The entity account (實體使用者帳戶) of 02-000021 signs in at the portal only,
  $IDP_ISSUER/account; it cannot sign in to e-services:
TXT
sed -n 's/^  entity account\(.* password [^ ]*\).*/   \1/p' <<<"$demo_text"
cat <<TXT

  Operator commands (./bin/idp …) act for an officer: the demo seeded demo.supervisor.
    export IDP_OFFICER=demo.supervisor

  Operator's desk (行政公職局): http://$IDP_DESK_LISTEN
TXT
if [ -n "$desk_code" ]; then
  cat <<TXT
    Officer $desk_officer activates at http://$IDP_DESK_LISTEN/activate with code $desk_code,
    chooses a password and adds the 安全驗證碼 to an authenticator app; then signs in at /signin.
TXT
elif [ "$desk_state" = active/yes ]; then
  echo "    Officer $desk_officer signs in with its password and its 安全驗證碼."
else
  echo "    Officer $desk_officer's activation code is in .run/idp.log (grep 啟動碼)."
fi
cat <<TXT

  Everything (client secrets included) is in .run/demo.json. Ctrl-C stops both.

TXT
wait -n $idp_pid $rp_pid
