#!/usr/bin/env bash
# tests/browser.sh - the HTML report in a real browser: the demo's story on a
# temporary database (catalog, the Azure conversation and code traces, an
# owned cluster, a four-quarter scenario, its run), `report quarterly
# --format html`, then headless Chromium driven over the DevTools protocol
# (python3's standard library only) checks that the page logs no console
# error or exception, that its three charts are drawn (bars of non-zero
# height, one demand line per workload) and that nothing spills out of the
# page sideways, and saves screenshots under the build directory.
# Skipped (exit 77) when Chromium is not installed.
# Usage: browser.sh PATH/TO/piqplan [SCREENSHOT_DIR]
set -uo pipefail

PIQPLAN=$(realpath "${1:?usage: browser.sh PATH/TO/piqplan [SCREENSHOT_DIR]}")
OUTDIR=${2:-${PIQPLAN_BUILD_DIR:-$PWD}}
DATA=${PIQPLAN_TEST_DATA:?PIQPLAN_TEST_DATA must point at tests/data}
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
	echo "SKIP: Chromium is not installed (apt-get install chromium; ./scripts/test installs it)"
	echo "0 passed, 0 failed"
	exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
export PIQPLAN_DB="$tmp/b.db"

pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
expect0() {
	"$PIQPLAN" "$@" >"$tmp/out" 2>"$tmp/err" && ok ||
		bad "piqplan $* -> exit $?; stderr: $(cat "$tmp/err")"
}

expect0 init
expect0 workload import conv "$DATA/workloads/azure_conv.csv" --model deepseek-ai/DeepSeek-V3 \
	--description "Azure LLM inference trace 2023, conversation"
expect0 workload import code "$DATA/workloads/azure_code.csv" --model meta-llama/Llama-3.1-70B \
	--description "Azure LLM inference trace 2023, code"
expect0 cluster add lab-h100 --gpu H100-SXM-80GB --gpus 16 --pricing owned --usd-per-hour 1.60
expect0 scenario create plan-2027 --workload conv,code \
	--gpus H200-SXM-141GB,H100-SXM-80GB,B200-SXM-180GB --start 2027Q1 --quarters 4 --growth 15% \
	--description "2027 capacity for chat (DeepSeek-V3) and code completion (Llama-3.1-70B)"
expect0 scenario run plan-2027
expect0 report quarterly plan-2027 --format html -o "$tmp/report.html"
# Hostile names: a script that would log an error and open a dialog, quotes,
# bytes that are not UTF-8, and a 3,000-character word with nowhere to break.
evil=$'<script>console.error("xss");alert(1)</script><img src=x onerror="alert(2)">\xff'
word=$(printf 'W%.0s' $(seq 1 3000))
expect0 workload import "$evil" "$DATA/workloads/tiny_requests.csv" --model meta-llama/Llama-3.1-8B
expect0 scenario create "$evil$word" --workload "$evil" --gpus H100-SXM-80GB \
	--start 2027Q1 --quarters 2 --description "$word $evil"
expect0 scenario run "$evil$word"
expect0 report quarterly "$evil$word" --format html -o "$tmp/hostile.html"
mkdir -p "$OUTDIR"

cat >cdp.py <<'PY'
# Drive Chromium over --remote-debugging-pipe: fd 3 carries commands to the
# browser, fd 4 its answers, each a JSON message ended by a NUL byte.
import base64, json, os, subprocess, sys, time

chromium, outdir, profile = sys.argv[1:4]
pages = sys.argv[4:]
to_r, to_w = os.pipe()
from_r, from_w = os.pipe()
def child_fds():   # in the child: copies first, as the pipes may sit on 3 or 4
    a, b = os.dup(to_r), os.dup(from_w)
    os.dup2(a, 3)     # os.dup2 makes 3 and 4 inheritable
    os.dup2(b, 4)
proc = subprocess.Popen(
    [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
     "--disable-background-networking", "--disable-component-update", "--disable-sync",
     "--user-data-dir=" + profile, "--remote-debugging-pipe", "about:blank"],
    close_fds=False, preexec_fn=child_fds,
    stdout=subprocess.DEVNULL, stderr=open(os.path.join(profile, "stderr"), "w"))
os.close(to_r)
os.close(from_w)
buf = b""
events = []
next_id = 0
deadline = time.time() + 60

def read_msg():
    global buf
    while b"\0" not in buf:
        if time.time() > deadline:
            raise SystemExit("timed out waiting for Chromium")
        chunk = os.read(from_r, 65536)
        if not chunk:
            raise SystemExit("Chromium closed the pipe")
        buf += chunk
    msg, buf = buf.split(b"\0", 1)
    return json.loads(msg)

def send(method, params=None, session=None):
    global next_id
    next_id += 1
    m = {"id": next_id, "method": method, "params": params or {}}
    if session:
        m["sessionId"] = session
    os.write(to_w, json.dumps(m).encode() + b"\0")
    while True:
        r = read_msg()
        if r.get("id") == next_id:
            if "error" in r:
                raise SystemExit("%s: %s" % (method, r["error"]))
            return r.get("result", {})
        events.append(r)

def wait_event(name):
    while True:
        for i, e in enumerate(events):
            if e.get("method") == name:
                return events.pop(i)
        events.append(read_msg())

target = send("Target.createTarget", {"url": "about:blank"})["targetId"]
s = send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
for domain in ("Page", "Runtime", "Log"):
    send(domain + ".enable", session=s)
send("Emulation.setDeviceMetricsOverride",
     {"width": 1280, "height": 2000, "deviceScaleFactor": 1, "mobile": False}, session=s)

probe = r"""(() => {
  const svgs = [...document.querySelectorAll('svg')];
  const bars = [...document.querySelectorAll('svg rect.bar')];
  const lines = [...document.querySelectorAll('svg polyline.line')];
  const de = document.documentElement;
  const lineCount = el => { const r = document.createRange(); r.selectNodeContents(el);
      return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size; };
  return {
    svgs: svgs.length,
    svg_sizes: svgs.map(s => { const r = s.getBoundingClientRect(); return [r.width, r.height]; }),
    bars: bars.length,
    bars_drawn: bars.filter(b => b.getBoundingClientRect().height > 0).length,
    bars_outside: bars.filter(b => { const r = b.getBoundingClientRect(),
        p = b.ownerSVGElement.getBoundingClientRect();
        return r.top < p.top - 0.5 || r.bottom > p.bottom + 0.5; }).length,
    lines: lines.length,
    line_points: lines.map(l => l.points.numberOfItems),
    texts_clipped: [...document.querySelectorAll('svg text')].filter(t => {
        const r = t.getBoundingClientRect(), p = t.ownerSVGElement.getBoundingClientRect();
        return r.left < p.left - 0.5 || r.right > p.right + 0.5; }).map(t => t.textContent),
    short_cells_wrapped: [...document.querySelectorAll('td, th')].filter(c =>
        c.textContent.length <= 40 && lineCount(c) > 1).map(c => c.textContent),
    scripts: document.scripts.length,
    page_width: de.scrollWidth, view_width: de.clientWidth,
    height: de.scrollHeight,
    sections: document.querySelectorAll('section').length,
    title: document.title,
  };
})()"""

def shoot(path, clip=None):
    params = {"format": "png"}
    if clip:
        params.update(captureBeyondViewport=True, clip=clip)
    data = send("Page.captureScreenshot", params, session=s)["data"]
    open(os.path.join(outdir, path), "wb").write(base64.b64decode(data))

results = []
for n, page in enumerate(pages):
    del events[:]
    send("Page.navigate", {"url": "file://" + page}, session=s)
    wait_event("Page.loadEventFired")
    time.sleep(0.5)   # let late console messages arrive
    info = send("Runtime.evaluate", {"expression": probe, "returnByValue": True},
                session=s)["result"]["value"]
    name = "report" if n == 0 else "report-%d" % (n + 1)
    shoot(name + "-screenshot.png")
    # The whole page too, in 2000-pixel slices, for a person to look at.
    y, k = 0, 0
    while n == 0 and y < info["height"]:
        h = min(2000, info["height"] - y)
        k += 1
        shoot("%s-page-%d.png" % (name, k), {"x": 0, "y": y, "width": 1280, "height": h,
                                               "scale": 1})
        y += h
    errors = []
    for e in events:
        m, p = e.get("method"), e.get("params", {})
        if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert", "warning"):
            args = [a.get("value") for a in p.get("args", [])]
            errors.append("console.%s: %s" % (p["type"], args))
        elif m == "Runtime.exceptionThrown":
            errors.append("exception: %s" % p["exceptionDetails"].get("text"))
        elif m == "Log.entryAdded" and p["entry"].get("level") in ("error", "warning"):
            errors.append("log %s: %s" % (p["entry"]["level"], p["entry"].get("text")))
        elif m == "Page.javascriptDialogOpening":
            errors.append("dialog: %s" % p.get("message"))
    info["console_errors"] = errors
    results.append(info)
try:
    send("Browser.close")
except SystemExit:
    pass
proc.wait(timeout=20)
print(json.dumps(results))
PY

if timeout 120 python3 cdp.py "$CHROMIUM" "$OUTDIR" "$(mktemp -d)" "$tmp/report.html" \
	"$tmp/hostile.html" >"$tmp/info.json" 2>"$tmp/cdp.err"; then
	ok
else
	bad "driving Chromium failed: $(tail -5 "$tmp/cdp.err")"
	echo "$pass passed, $fail failed"
	exit 1
fi

# Expected shapes, from the scenario: 4 quarters, 2 workloads; two bar
# charts of 2 series (needed/owned, cost/floor) x 4 quarters = 16 bars, all
# non-zero (every quarter needs GPUs, owns 16 H100s and costs something).
# The hostile page (2 quarters, 1 workload): nothing it holds may run or
# widen the page.
cat >check.py <<'PY'
import json, sys
i, h = json.load(open(sys.argv[1]))
checks = [
    (i["console_errors"] == [], "console errors: %s" % i["console_errors"]),
    (i["svgs"] == 3, "3 charts, got %d" % i["svgs"]),
    (all(w > 100 and h > 100 for w, h in i["svg_sizes"]),
     "charts drawn at size %s" % i["svg_sizes"]),
    (i["bars"] == 16, "16 bars, got %d" % i["bars"]),
    (i["bars_drawn"] == 16, "16 bars of non-zero height, got %d" % i["bars_drawn"]),
    (i["bars_outside"] == 0, "%d bars outside their chart" % i["bars_outside"]),
    (i["lines"] == 2 and i["line_points"] == [4, 4],
     "2 demand lines of 4 points: %s" % i["line_points"]),
    (i["texts_clipped"] == [], "chart labels cut off: %s" % i["texts_clipped"]),
    (i["short_cells_wrapped"] == [],
     "short cells broken over lines: %s" % i["short_cells_wrapped"][:5]),
    (i["scripts"] == 0, "the report has no scripts"),
    (i["page_width"] <= i["view_width"], "page wider than the window: %d > %d"
     % (i["page_width"], i["view_width"])),
    (i["sections"] >= 10, "%d sections" % i["sections"]),
    (i["title"] == "Quarterly capacity report: plan-2027", "title %r" % i["title"]),
    (h["console_errors"] == [],
     "hostile page: console errors or dialogs: %s" % h["console_errors"]),
    (h["scripts"] == 0, "hostile page: %d scripts" % h["scripts"]),
    (h["svgs"] == 3 and h["bars"] == 8,
     "hostile page: charts %d, bars %d" % (h["svgs"], h["bars"])),
    (h["texts_clipped"] == [], "hostile page: chart labels cut off: %.200s" % h["texts_clipped"]),
    (h["page_width"] <= h["view_width"], "hostile page wider than the window: %d > %d"
     % (h["page_width"], h["view_width"])),
]
for good, what in checks:
    if not good:
        print("FAIL:", what, file=sys.stderr)
print(sum(g for g, _ in checks), sum(not g for g, _ in checks))
PY
read -r p f < <(python3 check.py "$tmp/info.json")
pass=$((pass + ${p:-0})) fail=$((fail + ${f:-1}))
echo "screenshot: $OUTDIR/report-screenshot.png (whole page: $OUTDIR/report-page-*.png;" \
	"hostile names: $OUTDIR/report-2-screenshot.png)"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
