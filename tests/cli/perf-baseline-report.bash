# perf-baseline report: one self-contained HTML page of charts.

# store_with_runs DIR: a repository whose store holds real commits, one of them a breach.
store_with_runs() {
  make_repo "$1" 1
  local i
  for i in 1 2 3 4 5 6; do
    echo "$i" >"$1/f$i" && perf-commit -q -C "$1" -m "c$i" || fail "perf-commit $i"
  done
  echo slow >"$1/slow" && perf-commit -q -C "$1" -m slow --threshold 1us --warn-only
  perf-rollback -q -C "$1" HEAD~1 || fail "perf-rollback"
  db=$(store_of "$1")
}

# chromium_bin: the headless browser, or skip.
chromium_bin() {
  local b
  for b in chromium chromium-browser; do
    command -v "$b" >/dev/null && { command -v "$b"; return; }
  done
  skip "chromium is not installed (Debian package chromium)"
}

# headless ARGS…: runs chromium headless, offline, with a throwaway profile.
headless() {
  local profile
  profile=$(mktemp -d "$TEST_DIR/profile.XXXXXX")
  timeout 120 "$(chromium_bin)" --headless --no-sandbox --disable-gpu --disable-quic \
    --no-first-run --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --enable-logging=stderr --v=0 "$@"
}

test_report_writes_one_self_contained_html_file() {
  store_with_runs r
  run perf-baseline -C r report -o "$TEST_DIR/report.html"
  expect_status 0
  expect_stdout_contains "wrote $TEST_DIR/report.html: 3 steps, 9 runs in the last 30d"
  expect_file_exists report.html
  grep -q '^<!DOCTYPE html>' report.html || fail "not an HTML document"
  grep -q '<svg class="time-chart"' report.html || fail "no time chart"
  grep -q '<svg class="histogram"' report.html || fail "no histogram"
  grep -q '<circle class="breach"' report.html || fail "the breach is not marked"
  grep -q '<g class="threshold">' report.html || fail "no threshold line"
  grep -Eq 'https?://' report.html && fail "the page refers to the network"
  grep -Eq '<script|<link|src=' report.html && fail "the page loads something"
  ls report.html.tmp-* 2>/dev/null && fail "a temporary file was left behind"
  true
}

test_report_draws_the_active_baseline_p99() {
  store_with_runs r
  perf-baseline -q -C r compute --min-samples 3 || fail "compute"
  run perf-baseline -C r report -o "$TEST_DIR/report.html" --step commit
  expect_status 0
  grep -q '<g class="baseline">' report.html || fail "no baseline line"
  grep -q 'baseline p99 ' report.html || fail "no baseline label"
  grep -q '>rollback<' report.html && fail "--step commit shows rollback"
  true
}

test_report_escapes_repository_names_and_steps() {
  make_repo 'r<b>&x' 1
  echo 1 >'r<b>&x/f' && perf-commit -q -C 'r<b>&x' -m one || fail "perf-commit"
  db=$(store_of 'r<b>&x')
  sql "$db" "INSERT INTO names (name) VALUES ('<img onerror=x>');
    INSERT INTO step_rows (trace_id, name_id, started_us, duration_us, status, threshold_us,
      exit_code, context_id)
    SELECT 42, (SELECT id FROM names WHERE name = '<img onerror=x>'),
      CAST(strftime('%s', 'now') AS INTEGER) * 1000000, 1234, 0, NULL, 0, context_id
    FROM step_rows LIMIT 1;" || fail "sql"
  run perf-baseline -C 'r<b>&x' report -o "$TEST_DIR/report.html"
  expect_status 0
  grep -q 'r&lt;b&gt;&amp;x' report.html || fail "the repository name is not escaped"
  grep -q '&lt;img onerror=x&gt;' report.html || fail "the step name is not escaped"
  grep -q '<img' report.html && fail "raw markup from the store"
  grep -q 'r<b>' report.html && fail "raw repository name"
  true
}

test_report_of_an_empty_store_says_there_is_no_data() {
  make_repo r 1
  echo 1 >r/f && perf-commit -q -C r -m one || fail "perf-commit"
  db=$(store_of r)
  perf-baseline -q -C r prune --older-than 1us || fail "prune"
  run perf-baseline -C r report -o "$TEST_DIR/empty.html"
  expect_status 0
  expect_stdout_contains "0 steps, 0 runs"
  grep -q 'id="no-data"' empty.html || fail "no 'no data' message"
  grep -q '<svg' empty.html && fail "charts of nothing"
  true
}

test_report_to_stdout_and_json_summary() {
  store_with_runs r
  run perf-baseline -C r report -o - --since all
  expect_status 0
  expect_stdout_contains "<!DOCTYPE html>"
  run perf-baseline -C r report -o "$TEST_DIR/x.html" --json
  expect_status 0
  expect_stdout_contains "\"output\":\"$TEST_DIR/x.html\",\"steps\":3,\"runs\":9"
}

test_report_bad_since_or_missing_output_is_usage_error() {
  store_with_runs r
  run perf-baseline -C r report -o "$TEST_DIR/x.html" --since soon
  expect_status 2
  expect_stderr_contains "--since"
  expect_stderr_lines 1
  expect_no_file x.html
  run perf-baseline -C r report
  expect_status 2
  expect_stderr_lines 1
}

test_report_into_a_missing_directory_fails_naming_the_file() {
  store_with_runs r
  run perf-baseline -C r report -o "$TEST_DIR/no/such/dir/x.html"
  expect_status 1
  expect_stderr_contains "no/such/dir/x.html"
  expect_stderr_lines 1
  expect_no_file "$TEST_DIR/no"
}

test_report_renders_in_headless_chromium_without_errors() {
  chromium_bin >/dev/null
  store_with_runs r
  perf-baseline -q -C r compute --min-samples 3 || fail "compute"
  perf-baseline -q -C r report -o "$TEST_DIR/report.html" || fail "report"
  # The DOM chromium built holds the charts.
  headless --dump-dom "file://$TEST_DIR/report.html" >dom.html 2>dom.err
  grep -c '<circle' dom.html | grep -qv '^0$' || fail "no points in the rendered DOM"
  grep -q '<rect class="bin' dom.html || fail "no histogram bars in the rendered DOM"
  # A screenshot that is not blank, and no console error on the way.
  headless --screenshot="$TEST_DIR/shot.png" --window-size=1200,900 \
    "file://$TEST_DIR/report.html" >shot.out 2>shot.err
  expect_file_exists shot.png
  if grep -E 'Uncaught|ERROR:CONSOLE|Refused to (load|apply|execute)' dom.err shot.err; then
    fail "console errors"
  fi
  # Larger than a blank page's screenshot by far…
  echo '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body></body></html>' >blank.html
  headless --screenshot="$TEST_DIR/blank.png" --window-size=1200,900 \
    "file://$TEST_DIR/blank.html" >/dev/null 2>&1
  local size blank
  size=$(stat -c %s shot.png) blank=$(stat -c %s blank.png)
  echo "screenshot $size bytes, blank $blank bytes"
  [[ $size -gt $((blank * 5)) ]] || fail "the screenshot looks blank ($size bytes, blank $blank)"
  # …and, where python3 can decode it, made of many colours.
  command -v python3 >/dev/null || return 0
  local colours
  colours=$(python3 - "$TEST_DIR/shot.png" <<'EOF'
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n"
pos, idat, w = 8, b"", 0
while pos < len(data):
    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
        bpp = {2: 3, 6: 4}[ctype]
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
raw = zlib.decompress(idat)
stride = w * bpp
prev = bytearray(stride)
colours = set()
for y in range(h):
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    if y % 2 == 0:
        for x in range(0, w, 2):
            colours.add(bytes(line[x * bpp:x * bpp + 3]))
    prev = line
print(len(colours))
EOF
  ) || fail "cannot read the screenshot"
  echo "distinct colours: $colours"
  [[ $colours -ge 20 ]] || fail "the screenshot looks blank ($colours colours)"
}

# ninety_days_of_steps FILE [N]: N steps (default 100,000) over the last 90 days as jsonl:
# commits (spans add, commit) that drift slower and have a few slow outliers, rollbacks
# (spans snapshot, reset) and recoveries (snapshot, rollback, validate, restart, health).
ninety_days_of_steps() {
  awk -v n="${2:-100000}" -v end_s="$(date +%s)" 'BEGIN {
    srand(7)
    span_s = 90 * 86400
    for (i = 0; i < n; i++) {
      start_us = (end_s - span_s + int(i * span_s / n)) * 1000000 + int(rand() * 1000000)
      k = i % 20
      if (k < 16) {
        # commit: its median drifts from about 45ms to 70ms over the 90 days; ten outliers.
        drift = 1 + 0.5 * i / n
        add = int((8000 + rand() * rand() * 20000) * drift)
        cm = int((30000 + rand() * rand() * 60000) * drift)
        if (i % 9973 == 5) cm = 4000000 + int(rand() * 8000000)
        printf("{\"step\":\"commit\",\"status\":\"%s\",\"started_us\":%.0f,\"duration_us\":%d,", (add + cm + 150 > 1000000) ? "breach" : "ok", start_us, add + cm + 150)
        printf("\"threshold_us\":1000000,\"exit_code\":0,\"spans\":[")
        printf("{\"name\":\"add\",\"offset_us\":40,\"duration_us\":%d},", add)
        printf("{\"name\":\"commit\",\"offset_us\":%d,\"duration_us\":%d}]}\n", 80 + add, cm)
      } else if (k < 19) {
        snap = int(3000 + rand() * 4000); reset = int(20000 + rand() * rand() * 80000)
        printf("{\"step\":\"rollback\",\"status\":\"ok\",\"started_us\":%.0f,\"duration_us\":%d,", start_us, snap + reset + 100)
        printf("\"threshold_us\":2000000,\"exit_code\":0,\"spans\":[")
        printf("{\"name\":\"snapshot\",\"offset_us\":20,\"duration_us\":%d},", snap)
        printf("{\"name\":\"reset\",\"offset_us\":%d,\"duration_us\":%d}]}\n", 50 + snap, reset)
      } else {
        a = int(3000 + rand() * 4000); b = int(30000 + rand() * 50000); c = int(15000 + rand() * 20000)
        d = int(200000 + rand() * 300000); e = int(50000 + rand() * rand() * 400000)
        printf("{\"step\":\"recover\",\"status\":\"ok\",\"started_us\":%.0f,\"duration_us\":%d,", start_us, a + b + c + d + e + 200)
        printf("\"threshold_us\":10000000,\"exit_code\":0,\"spans\":[")
        printf("{\"name\":\"snapshot\",\"offset_us\":10,\"duration_us\":%d},", a)
        printf("{\"name\":\"rollback\",\"offset_us\":%d,\"duration_us\":%d},", 20 + a, b)
        printf("{\"name\":\"validate\",\"offset_us\":%d,\"duration_us\":%d},", 30 + a + b, c)
        printf("{\"name\":\"restart\",\"offset_us\":%d,\"duration_us\":%d},", 40 + a + b + c, d)
        printf("{\"name\":\"health\",\"offset_us\":%d,\"duration_us\":%d}]}\n", 50 + a + b + c + d, e)
      }
    }
  }' >"$1"
}

# A script that measures the rendered page in the browser and writes what it found into
# the DOM, for a test copy of the report only (the report itself runs no script).
measure_script() {
  cat <<'JS'
<script>
(() => {
  const out = [];
  const svgs = [...document.querySelectorAll("svg")];
  let labels = 0, overlaps = 0, outside = 0;
  for (const svg of svgs) {
    const vb = svg.viewBox.baseVal;
    const boxes = [...svg.querySelectorAll("text.marker-label, text.tail-label")].map(
      t => ({ box: t.getBBox(), text: t.textContent }));
    labels += boxes.length;
    boxes.forEach((a, i) => {
      const b = a.box;
      if (b.x < 0 || b.y < 0 || b.x + b.width > vb.width || b.y + b.height > vb.height) {
        outside++;
        out.push("outside: " + a.text);
      }
      boxes.slice(0, i).forEach(o => {
        const c = o.box;
        if (b.x < c.x + c.width && c.x < b.x + b.width && b.y < c.y + c.height && c.y < b.y + b.height) {
          overlaps++;
          out.push("overlap: " + a.text + " / " + o.text);
        }
      });
    });
  }
  out.push("labels " + labels + " overlaps " + overlaps + " outside " + outside);
  for (const h of document.querySelectorAll("svg.histogram")) {
    const bars = [...h.querySelectorAll("rect.bin")].filter(r => r.getBBox().height > 0.5);
    out.push("histogram bars " + bars.length);
  }
  for (const t of document.querySelectorAll("svg.time-chart")) {
    const len = sel => { const p = t.querySelector(sel); return p ? Math.round(p.getTotalLength()) : 0; };
    out.push("rolling median " + len("path.rolling.median") + " p95 " + len("path.rolling.p95"));
  }
  const described = svgs.filter(s => s.querySelector(":scope > title") && s.querySelector(":scope > desc")).length;
  const labelled = svgs.filter(s => {
    const ids = (s.getAttribute("aria-labelledby") || "").split(" ").filter(Boolean);
    return ids.length && ids.every(id => document.getElementById(id));
  }).length;
  const imgs = [...document.querySelectorAll("img")].filter(i => !i.hasAttribute("alt")).length;
  out.push("a11y lang " + (document.documentElement.lang || "none") + " h1 " +
    document.querySelectorAll("h1").length + " h2 " + document.querySelectorAll("h2").length +
    " svgs " + svgs.length + " described " + described + " labelled " + labelled +
    " imgs-without-alt " + imgs);
  const pre = document.createElement("pre");
  pre.id = "measured";
  pre.textContent = "\n" + out.join("\n") + "\n";
  document.body.appendChild(pre);
})();
</script>
JS
}

test_report_of_ninety_days_reads_well_in_headless_chromium() {
  chromium_bin >/dev/null
  make_repo r 1
  ninety_days_of_steps steps.jsonl
  perf-baseline -q -C r import --format jsonl "$TEST_DIR/steps.jsonl" || fail "import"
  perf-baseline -q -C r compute || fail "compute"
  run perf-baseline -C r report -o "$TEST_DIR/report.html" --since all
  expect_status 0
  expect_stdout_contains "3 steps, 100000 runs"
  grep -Eq '<script|<link|src=|https?://' report.html && fail "the page loads something"
  # What a reader sees: a screenshot of the whole page.
  headless --screenshot="$TEST_DIR/report.png" --window-size=1000,4200 \
    "file://$TEST_DIR/report.html" >shot.out 2>shot.err
  expect_file_exists report.png
  # A test copy with a script that measures the rendered page (the Content Security Policy
  # that forbids scripts taken out), its findings read from the DOM chromium built.
  { sed -e '/Content-Security-Policy/d' -e 's|</body>||' report.html; measure_script
    echo '</body>'; } >measured.html
  headless --dump-dom "file://$TEST_DIR/measured.html" >dom.html 2>dom.err
  sed -n '/<pre id="measured">/,/<\/pre>/p' dom.html >measured.txt
  cat measured.txt
  # Threshold and baseline in each of the 6 charts, and the tail bar's count and start.
  grep -q '^labels 14 overlaps 0 outside 0$' measured.txt ||
    fail "marker labels overlap or leave their chart"
  local bars
  bars=$(sed -n 's/^histogram bars //p' measured.txt)
  [[ $(wc -l <<<"$bars") -eq 3 ]] || fail "not three histograms: $bars"
  while read -r n; do
    [[ $n -ge 5 ]] || fail "a distribution of only $n non-empty bars"
  done <<<"$bars"
  [[ $(grep -cE '^rolling median [1-9][0-9]* p95 [1-9][0-9]*$' measured.txt) -eq 3 ]] ||
    fail "a time chart without rolling lines"
  grep -q '^a11y lang en h1 1 h2 4 svgs 6 described 6 labelled 6 imgs-without-alt 0$' \
    measured.txt || fail "accessibility: $(grep a11y measured.txt)"
  # The outliers are a labelled bar of their own; the spans are tabled.
  grep -q 'class="bin tail' dom.html || fail "no tail bar for the commit outliers"
  grep -q 'trailing 3d window' dom.html || fail "the caption does not name the window"
  for span in add commit snapshot reset validate restart health; do
    grep -q "<th scope=\"row\">$span</th>" dom.html || fail "no row for span $span"
  done
  if grep -E 'Uncaught|ERROR:CONSOLE|Refused to (load|apply|execute)' shot.err; then
    fail "console errors"
  fi
}
