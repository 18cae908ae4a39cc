# shellcheck shell=bash
# `scripts/play --secure`: Mosquitto with static/mosquitto-secure.conf (users, ACL per service,
# TLS WebSocket on 9443). Sourced by scripts/play after scripts/lib/tools.sh.
#
# Writes under target/secure/: `passwords` (mosquitto_passwd, a fresh random password per user
# on every start), `broker.key` and `broker.crt` (openssl: a self-signed certificate for
# localhost and 127.0.0.1, kept across starts so the browser's exception stays valid),
# `credentials.txt` (the user names and passwords, readable by you only) and `mosquitto.conf`
# (the secure config, its TCP port moved if 1883 is taken). Sets EDA_PLAY_BROKER_PID.

SECURE_USERS=(OrderService PaymentService InventoryService NotificationService QueryService watcher)
SECURE_WSS_PORT=9443

start_secure_broker() {
  local dir="$EDA_ROOT/target/secure"
  local log="$EDA_ROOT/target/mosquitto-secure.log"
  require_cmd mosquitto "Install the Debian package 'mosquitto'."
  require_cmd mosquitto_passwd "Install the Debian package 'mosquitto'."
  require_cmd openssl "Install the Debian package 'openssl'."
  mkdir -p "$dir"
  # Started as root, Mosquitto reads its files as the mosquitto user.
  chmod 0755 "$EDA_ROOT/target" "$dir"

  if [[ ! -s $dir/broker.crt || ! -s $dir/broker.key ]]; then
    say "making a self-signed certificate for localhost (target/secure/broker.crt)"
    openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj /CN=localhost \
      -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
      -keyout "$dir/broker.key" -out "$dir/broker.crt" 2>/dev/null
  fi

  : >"$dir/passwords"
  : >"$dir/credentials.txt"
  chmod 0600 "$dir/credentials.txt"
  local user password
  for user in "${SECURE_USERS[@]}"; do
    password=$(openssl rand -hex 12)
    mosquitto_passwd -b "$dir/passwords" "$user" "$password"
    printf '%-20s %s\n' "$user" "$password" >>"$dir/credentials.txt"
  done
  if [[ $(id -u) == 0 ]] && id mosquitto >/dev/null 2>&1; then
    chown mosquitto "$dir/passwords" "$dir/broker.key"
    chmod 0600 "$dir/passwords" "$dir/broker.key"
  else
    chmod 0600 "$dir/passwords" "$dir/broker.key"
  fi

  EDA_PLAY_BROKER_TCP_PORT=1883
  if port_open 127.0.0.1 1883; then
    local alt=1884
    while port_open 127.0.0.1 "$alt" && ((alt < 1900)); do alt=$((alt + 1)); done
    say "port 1883 is taken; the secure broker's TCP listener uses 127.0.0.1:$alt instead"
    EDA_PLAY_BROKER_TCP_PORT=$alt
  fi
  sed -E "s/^listener[[:space:]]+1883([[:space:]].*)?$/listener $EDA_PLAY_BROKER_TCP_PORT 127.0.0.1/" \
    "$EDA_ROOT/static/mosquitto-secure.conf" >"$dir/mosquitto.conf"

  say "starting mosquitto -c target/secure/mosquitto.conf (log: target/mosquitto-secure.log)"
  local linebuf=()
  have_cmd stdbuf && linebuf=(stdbuf -oL -eL)
  (cd "$EDA_ROOT" && exec ${linebuf[@]+"${linebuf[@]}"} mosquitto -c "$dir/mosquitto.conf") >"$log" 2>&1 &
  EDA_PLAY_BROKER_PID=$!
  local tries=0
  until port_open 127.0.0.1 "$SECURE_WSS_PORT" && port_open 127.0.0.1 "$EDA_PLAY_BROKER_TCP_PORT"; do
    tries=$((tries + 1))
    if ! kill -0 "$EDA_PLAY_BROKER_PID" 2>/dev/null || ((tries > 50)); then
      echo "mosquitto did not start; its log (target/mosquitto-secure.log):" >&2
      cat "$log" >&2
      stop_play_broker
      return 1
    fi
    sleep 0.2
  done
  ok "secure mosquitto listening: wss://localhost:$SECURE_WSS_PORT, 127.0.0.1:$EDA_PLAY_BROKER_TCP_PORT (tcp)"
}

print_secure_help() {
  local app_url=$1 dir="$EDA_ROOT/target/secure"
  local watcher_password
  watcher_password=$(awk '$1 == "watcher" { print $2 }' "$dir/credentials.txt")
  cat <<EOF

  The playground, on the secure broker:
    ${app_url}?broker=wss://localhost:$SECURE_WSS_PORT

  First, make the browser trust the self-signed certificate: open https://localhost:$SECURE_WSS_PORT/
  in the same browser and accept the warning (Chrome: "Advanced" > "Proceed to localhost";
  Firefox: "Advanced" > "Accept the Risk"). The page says "Bad Request" or nothing: that is fine.
  Or trust target/secure/broker.crt in your system's or browser's certificate store.

  Then open "Sign in to the broker" in the page and type a user name and password per service
  (the page keeps them in the tab's memory only; never in the link). New passwords on every start:
$(sed 's/^/    /' "$dir/credentials.txt")
  (also in target/secure/credentials.txt). Put watcher in "Whole page": the page's status monitor
  reads services/+/status with it.

  Watch the events (watcher may only read):
    mosquitto_sub -h 127.0.0.1 -p $EDA_PLAY_BROKER_TCP_PORT -u watcher -P $watcher_password -t '#' -v

EOF
}
