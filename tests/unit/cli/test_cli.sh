#!/usr/bin/env bash
# Tests of the `promex` CLI: every subcommand, its --help, and each bad flag (exit 2 with a message
# that says what to do). `dashboard publish` runs against tests/unit/grafana/mock_grafana.py on
# loopback, because Grafana is not packaged for Debian 12.
# Usage: test_cli.sh <path to promex binary> <source dir>
set -u
PROMEX=$(realpath "$1")
SRC=$(realpath "$2")
WORK=$(mktemp -d)
MOCK_PID=
cleanup() {
  [ -n "$MOCK_PID" ] && kill "$MOCK_PID" 2>/dev/null && wait "$MOCK_PID" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK" || exit 1
FAILS=0
N=0

fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }

# expect <exit code> <regex expected in stdout+stderr or ''> -- command...
expect() {
  local want=$1 pat=$2
  shift 3
  N=$((N + 1))
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [ "$rc" != "$want" ]; then
    fail "'$*' exited $rc, expected $want; output: $out"
  elif [ -n "$pat" ] && ! grep -Eq -- "$pat" <<<"$out"; then
    fail "'$*' output does not match /$pat/: $out"
  fi
}

# ---- top level ----
expect 0 'promex [0-9]+\.[0-9]+\.[0-9]+' -- "$PROMEX" --version
expect 0 'gen config.*dashboard export' -- bash -c "$PROMEX --help | tr '\n' ' '"
expect 2 'Usage: promex' -- "$PROMEX"
expect 2 "unknown command 'frobnicate'.*promex --help" -- "$PROMEX" frobnicate
expect 2 "unknown command 'explode'; use export, publish or lint" -- "$PROMEX" dashboard explode
expect 2 'missing command' -- "$PROMEX" dashboard
expect 2 "unknown generator 'thing'" -- "$PROMEX" gen thing
expect 0 'Usage: promex dashboard export' -- "$PROMEX" help dashboard export
expect 0 'Usage: promex gen config' -- "$PROMEX" help gen config
expect 2 "no command 'nothing'" -- "$PROMEX" help nothing

# ---- gen config ----
expect 0 'Usage: promex gen config' -- "$PROMEX" gen config --help
expect 0 '--datasource' -- "$PROMEX" gen config -h
expect 2 'missing -d/--datasource' -- "$PROMEX" gen config -o shop
expect 2 "option '-d' needs a value" -- "$PROMEX" gen config -d
expect 2 "option '--datasource' needs a value" -- "$PROMEX" gen config --datasource
expect 2 "unknown option '--bogus'" -- "$PROMEX" gen config -d prom --bogus
expect 2 "unknown option '-z'" -- "$PROMEX" gen config -d prom -z
expect 2 'must match \[a-z0-9_\]\+' -- "$PROMEX" gen config -d prom -o Bad-App
expect 2 'must be non-empty' -- "$PROMEX" gen config -d 'a;b' -o shop
expect 2 "unexpected argument 'extra'" -- "$PROMEX" gen config -d prom extra
expect 2 'same file' -- "$PROMEX" gen config -d prom --config-out x --source-out x
expect 0 'wrote promex.ini' -- "$PROMEX" gen config -d my_prom -o shop
[ -f promex.ini ] && [ -f promex_setup.c ] || fail "gen config did not write both files"
grep -q '^app = shop$' promex.ini || fail "promex.ini lacks app = shop"
grep -q '^datasource_id = my_prom$' promex.ini || fail "promex.ini lacks datasource_id"
grep -q '^\[plugin.process\]$' promex.ini || fail "promex.ini lacks the process plugin"
cp promex.ini before.ini
expect 1 'already exists; pass --force' -- "$PROMEX" gen config -d other -o shop
cmp -s promex.ini before.ini || fail "gen config overwrote promex.ini without --force"
expect 0 'wrote promex.ini' -- "$PROMEX" gen config -d other -o shop --force
grep -q '^datasource_id = other$' promex.ini || fail "--force did not rewrite promex.ini"
# The generated C file compiles against the public headers.
N=$((N + 1))
cc -std=c11 -Wall -Wextra -Werror -fsyntax-only -I "$SRC/include" promex_setup.c ||
  fail "generated promex_setup.c does not compile"
# Default app name: the directory's name, sanitized.
mkdir -p "My-Cool App" && (cd "My-Cool App" && "$PROMEX" gen config -d p >/dev/null) &&
  grep -q '^app = my_cool_app$' "My-Cool App/promex.ini" || fail "default app name not derived from the directory"
# Custom output paths.
expect 0 'wrote alt/x.ini' -- bash -c "mkdir -p alt && $PROMEX gen config -d p -o a1 --config-out alt/x.ini --source-out alt/x.c"
[ -f alt/x.c ] || fail "--source-out ignored"
# Item 13: the same file under two spellings (compared by device and inode, not by string).
expect 2 'same file' -- "$PROMEX" gen config -d p -o a2 --config-out alt/y.ini --source-out ./alt/y.ini
expect 2 'same file' -- "$PROMEX" gen config -d p -o a2 --config-out alt/y.ini --source-out alt/../alt/y.ini
ln -f alt/x.ini alt/hard.ini
expect 2 'same file' -- "$PROMEX" gen config -d p -o a2 --force --config-out alt/x.ini --source-out alt/hard.ini
# A failing second output leaves no first output behind (both go to temporary files first).
expect 1 'cannot write nodir/s.c' -- "$PROMEX" gen config -d p -o a3 --config-out half.ini --source-out nodir/s.c
[ ! -e half.ini ] || fail "gen config left half.ini behind when the source could not be written"
ls half.ini.tmp.* nodir 2>/dev/null && fail "gen config left temporary files behind"
# Devices are not replaced.
expect 1 'not a regular file' -- "$PROMEX" gen config -d p -o a3 --force --config-out /dev/null --source-out nul.c
[ -c /dev/null ] || fail "gen config replaced /dev/null"
[ ! -e nul.c ] || fail "gen config wrote nul.c although the other output was refused"
# Inputs the loader would refuse are refused before writing anything.
LONG_APP=$(printf 'a%.0s' $(seq 65))
expect 2 'is 65 characters; at most 64' -- "$PROMEX" gen config -d p -o "$LONG_APP" --config-out long.ini --source-out long.c
LONG_DS=$(printf 'd%.0s' $(seq 183))
expect 2 'is 183 characters; at most 182' -- "$PROMEX" gen config -d "$LONG_DS" -o a4 --config-out long.ini --source-out long.c
[ ! -e long.ini ] && [ ! -e long.c ] || fail "gen config wrote files for refused inputs"
# What gen config writes at the limits loads with its own loader (export reads it with
# pmx_config_load), and a quoted config path still gives a C file that compiles.
MAX_APP=$(printf 'b%.0s' $(seq 64))
MAX_DS=$(printf 'e%.0s' $(seq 182))
expect 0 'wrote max.ini' -- "$PROMEX" gen config -d "$MAX_DS" -o "$MAX_APP" --config-out max.ini --source-out 'ma"x.c'
expect 0 '' -- "$PROMEX" dashboard export -d process.json -s -c max.ini
expect 0 'wrote q"uo\\te.ini' -- "$PROMEX" gen config -d p -o a5 --config-out 'q"uo\te.ini' --source-out q.c
N=$((N + 1))
cc -std=c11 -Wall -Wextra -Werror -fsyntax-only -I "$SRC/include" q.c ||
  fail "generated C file with a quoted config path does not compile"

# ---- dashboard export (the generated config is loaded with pmx_config_load) ----
expect 0 'Usage: promex dashboard export' -- "$PROMEX" dashboard export --help
expect 0 'process.json' -- "$PROMEX" dashboard export -h
expect 2 'missing -d/--dashboard' -- "$PROMEX" dashboard export -s
expect 2 'exactly one of -s/--stdout and -f/--file' -- "$PROMEX" dashboard export -d process.json
expect 2 'exactly one of -s/--stdout and -f/--file' -- "$PROMEX" dashboard export -d process.json -s -f out.json
expect 2 "assign 'nokey' must be KEY=VALUE" -- "$PROMEX" dashboard export -d process.json -s -a nokey
expect 2 "assign '=v' must be KEY=VALUE" -- "$PROMEX" dashboard export -d process.json -s -a =v
expect 2 "unknown option '--nope'" -- "$PROMEX" dashboard export --nope
expect 2 "option '-f' needs a value" -- "$PROMEX" dashboard export -d process.json -f
expect 1 'First-party dashboards: .*process.json' -- "$PROMEX" dashboard export -d no_such_dashboard -s
expect 1 'cannot load config missing.ini' -- "$PROMEX" dashboard export -d process.json -s -c missing.ini
N=$((N + 1))
"$PROMEX" dashboard export -d process.json -s >stdout.json 2>err.txt || fail "export -s failed: $(cat err.txt)"
python3 - stdout.json <<'EOF' || fail "exported dashboard is wrong"
import json, sys
d = json.load(open(sys.argv[1]))
text = json.dumps(d)
assert "shop_prom_ex_process" in text, "config's app not used for metric prefixes"
assert "other" in text, "config's datasource_id assign not used"
EOF
N=$((N + 1))
"$PROMEX" dashboard export -d process -f out.json -a title=Custom -a datasource_id=ds9 2>err.txt ||
  fail "export -f failed: $(cat err.txt)"
python3 - out.json <<'EOF' || fail "-a assigns not applied"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["title"] == "Custom", d["title"]
assert "ds9" in json.dumps(d)
EOF
# Item 16: -a app=X moves the default metric prefixes (and title, uid) to X, with a config ...
N=$((N + 1))
"$PROMEX" dashboard export -d process.json -s -a app=other_app >app.json 2>err.txt || fail "export -a app failed: $(cat err.txt)"
grep -q 'other_app_prom_ex_process' app.json || fail "-a app=other_app did not move the metric prefix"
grep -q 'shop_prom_ex_process' app.json && fail "-a app=other_app kept the config's app in the metric prefix"
grep -q '"uid": *"other-app-process"' app.json || fail "-a app=other_app did not move the uid"
# ... and without one (the directory's name), while an explicit prefix assign still wins.
mkdir -p app_dir && (cd app_dir && "$PROMEX" dashboard export -d os.json -s -a app=zz -a os_metric_prefix=custom_os >os.json) || fail "export -a app without a config failed"
grep -q 'custom_os' app_dir/os.json || fail "an explicit os_metric_prefix assign lost to the app default"
grep -q 'app_dir_prom_ex_os' app_dir/os.json && fail "-a app=zz kept the directory's app"
(cd app_dir && "$PROMEX" dashboard export -d os.json -s -a app=zz >os2.json) && grep -q 'zz_prom_ex_os' app_dir/os2.json ||
  fail "-a app=zz without a config did not move the metric prefix"
# Item 12: the template read is bounded.
expect 1 'larger than 8388608 bytes; not a dashboard template' -- "$PROMEX" dashboard export -d /dev/zero -s
expect 1 "cannot read rules file '/dev/zero': .*larger than 8388608 bytes" -- "$PROMEX" alerts export -d /dev/zero -s
expect 1 "no first-party rules named 'nosuch', and no such file" -- "$PROMEX" alerts export -d nosuch -s
expect 2 "missing -d/--rules" -- "$PROMEX" alerts export -s
head -c 9000000 /dev/zero | tr '\0' ' ' >huge.json
expect 1 'larger than 8388608 bytes' -- "$PROMEX" dashboard export -d ./huge.json -s
rm -f huge.json
# Without promex.ini: all first-party plugins, app from the directory name.
mkdir -p empty_dir && (cd empty_dir && "$PROMEX" dashboard export -d os.json -s >os.json) &&
  grep -q 'empty_dir_prom_ex_os' empty_dir/os.json || fail "export without a config did not use the directory name"

# ---- dashboard lint ----
expect 0 'Usage: promex dashboard lint' -- "$PROMEX" dashboard lint --help
expect 2 "unknown option '--strict'" -- "$PROMEX" dashboard lint --strict
expect 2 "option '--config' needs a value" -- "$PROMEX" dashboard lint --config
cat >bad.json <<'EOF'
{"uid":"bad-dash","title":"Bad","schemaVersion":39,"panels":[
 {"id":1,"type":"graph","title":"Old panel","datasource":{"type":"prometheus","uid":"x"},
  "targets":[{"refId":"A","expr":"nonexistent_metric_total"}]}]}
EOF
expect 1 'bad.json: panel [0-9]+ "Old panel": \[deprecated_panel_type\] ' -- "$PROMEX" dashboard lint bad.json
expect 1 'unknown_metric' -- "$PROMEX" dashboard lint bad.json -c promex.ini
printf '{"uid": "x", ' >broken.json
expect 1 'broken.json: (render|.*invalid_json)' -- "$PROMEX" dashboard lint broken.json
expect 1 'cannot be opened' -- "$PROMEX" dashboard lint does_not_exist.json
# A clean dashboard passes.
cat >good.json <<'EOF'
{"uid":"good-dash","title":"Good","schemaVersion":39,"panels":[]}
EOF
expect 0 '1 dashboard linted, 0 findings' -- "$PROMEX" dashboard lint good.json
# With no files every first-party dashboard is linted (findings or not, all are visited).
N=$((N + 1))
out=$("$PROMEX" dashboard lint -c promex.ini 2>&1)
rc=$?
grep -Eq '^[0-9]+ dashboards linted' <<<"$out" || fail "lint of all dashboards printed no summary: $out"
[ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "lint of all dashboards exited $rc"

# ---- dashboard publish (against the mock Grafana) ----
expect 0 'Usage: promex dashboard publish' -- "$PROMEX" dashboard publish --help
expect 2 "timeout 'soon' must be a number" -- "$PROMEX" dashboard publish -t soon
expect 2 "timeout '0' must be a number" -- "$PROMEX" dashboard publish -t 0
expect 2 "unknown option '--module'" -- "$PROMEX" dashboard publish --module X
expect 1 'config nothere.ini not found' -- "$PROMEX" dashboard publish -c nothere.ini
cat >nografana.ini <<'EOF'
[promex]
app = shop
EOF
expect 1 'has no Grafana host' -- "$PROMEX" dashboard publish -c nografana.ini

exec {mockfd}< <(exec python3 "$SRC/tests/unit/grafana/mock_grafana.py" --token tok)
MOCK_PID=$!
read -r -u "$mockfd" PORT
[ -n "$PORT" ] || { echo "FAIL: mock Grafana did not start"; exit 1; }
sed -e "s#^host = .*#host = http://127.0.0.1:$PORT\nauth_token = tok#" \
    -e 's#^folder_name = .*#folder_name = Shop Dashboards#' promex.ini >publish.ini
expect 0 'published process.json -> http://127.0.0.1:[0-9]+/d/' -- "$PROMEX" dashboard publish -c publish.ini
N=$((N + 1))
curl -s "http://127.0.0.1:$PORT/__state" >state.json
python3 - state.json <<'EOF' || fail "publish did not upload the configured dashboards into the folder"
import json, sys
s = json.load(open(sys.argv[1]))
assert s["folders"]["promex-shop"]["title"] == "Shop Dashboards", s["folders"]
names = [d["dashboard"]["title"] for d in s["dashboards"].values()]
assert len(s["dashboards"]) >= 3, names
for d in s["dashboards"].values():
    assert d["folderUid"] == "promex-shop", d
EOF
sed -e "s#^auth_token = tok#auth_token = wrong#" publish.ini >badauth.ini
expect 1 'HTTP 401: Unauthorized' -- "$PROMEX" dashboard publish -c badauth.ini
curl -s -X POST "http://127.0.0.1:$PORT/__slow?ms=3000" >/dev/null
expect 1 'no answer within 300 ms' -- "$PROMEX" dashboard publish -c publish.ini -t 300
curl -s -X POST "http://127.0.0.1:$PORT/__slow?ms=0" >/dev/null

echo "$N checks, $FAILS failed"
[ "$FAILS" = 0 ]
