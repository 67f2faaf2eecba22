# The Kafka jars and the secrets every broker of this clone shares (sourced by
# stack/kafka.sh, which sets KAFKA_VERSION, LIBS, SECRETS and FIXED_PRINCIPALS).

require_java() {
  command -v java >/dev/null || die "Java 17+ is needed for Kafka and 'java' is not on PATH.
  Install it (Debian: apt-get install -y openjdk-17-jre-headless), or point KAFKA_BOOTSTRAP at a running broker."
  local major
  major=$(java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)
  [ "${major:-0}" -ge 17 ] || die "Kafka $KAFKA_VERSION needs Java 17 or newer; found Java ${major:-unknown}.
  Install a newer JDK and put it first on PATH (or set JAVA_HOME)."
}

fetch() {
  [ -f "$LIBS/.complete" ] && return 0
  require_java
  command -v mvn >/dev/null || die "Maven ('mvn') is needed to fetch the Kafka jars from Maven Central.
  Install it (Debian: apt-get install -y maven), or point KAFKA_BOOTSTRAP at a running broker."
  say "fetching Apache Kafka $KAFKA_VERSION jars from Maven Central into $LIBS ..."
  rm -rf "$LIBS.tmp"
  mvn -q -B -f "$ROOT/stack/kafka/pom.xml" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$LIBS.tmp" >"$LOG_DIR/kafka-fetch.log" 2>&1 \
    || die "mvn could not fetch the Kafka jars; see $LOG_DIR/kafka-fetch.log"
  touch "$LIBS.tmp/.complete"
  rm -rf "$LIBS"; mv "$LIBS.tmp" "$LIBS"
}

password() { cat "$SECRETS/$1.password"; }

# new_password NAME -> creates $SECRETS/NAME.password once (owner-readable only)
new_password() {
  local file=$SECRETS/$1.password
  [ -s "$file" ] && return 0
  (umask 077; openssl rand -hex 24 >"$file.tmp") && mv "$file.tmp" "$file"
}

# The CA and the broker's certificate (SAN localhost, 127.0.0.1 and kafka, the
# compose service name), made once with openssl; the broker reads a PKCS#12 store.
ensure_secrets() {
  command -v openssl >/dev/null || die "openssl is needed to make the broker's TLS certificate"
  mkdir -p "$SECRETS"; chmod 700 "$SECRETS"
  local p
  for p in "${FIXED_PRINCIPALS[@]}" keystore; do new_password "$p"; done
  [ -s "$SECRETS/broker.p12" ] && return 0
  say "generating a CA and the broker certificate in $SECRETS ..."
  (
    umask 077; cd "$SECRETS"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=service-norm local CA" \
      -keyout ca.key -out ca.pem -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout broker.key -out broker.csr 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1,DNS:kafka\nextendedKeyUsage=serverAuth,clientAuth\n' >broker.ext
    openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 3650 \
      -extfile broker.ext -out broker.pem 2>/dev/null
    openssl pkcs12 -export -in broker.pem -inkey broker.key -certfile ca.pem -name broker \
      -passout "pass:$(cat keystore.password)" -out broker.p12.tmp
    mv broker.p12.tmp broker.p12
    rm -f broker.csr broker.ext ca.srl
    chmod 644 ca.pem
  ) || die "could not generate the TLS certificates in $SECRETS"
}
