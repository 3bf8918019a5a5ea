#!/bin/sh
# make-repo.sh DIR [FILES=5000] [COMMITS=10000]
#
# Generates the benchmark repository: FILES small text files in nested directories and a
# history of COMMITS commits (one adding every file, then COMMITS-1 commits that each
# change one to three files). The whole history goes through one `git fast-import` stream,
# so it takes seconds, not minutes. The content is deterministic: the same arguments give
# the same repository (and the same commit ids) on every machine.
#
# Idempotent: when DIR already holds a repository made by this script with COMMITS
# commits and FILES files, it is reused as it is. A DIR made by this script with other
# numbers is regenerated; any other existing, non-empty DIR is refused.
set -eu

usage() {
  echo "usage: make-repo.sh DIR [FILES=5000] [COMMITS=10000]" >&2
  exit 2
}
if [ $# -lt 1 ] || [ $# -gt 3 ]; then usage; fi
dir=$1
files=${2:-5000}
commits=${3:-10000}
case $files$commits in *[!0-9]*) usage ;; esac
if [ "$files" -lt 1 ] || [ "$commits" -lt 1 ]; then usage; fi

marker=.git/perfguard-bench-repo
export LC_ALL=C GIT_CONFIG_NOSYSTEM=1
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY GIT_COMMON_DIR

if [ -e "$dir/$marker" ]; then
  have_commits=$(git -C "$dir" rev-list --count HEAD 2>/dev/null || echo 0)
  have_files=$(git -C "$dir" ls-files 2>/dev/null | wc -l | tr -d ' ')
  if [ "$have_commits" = "$commits" ] && [ "$have_files" = "$files" ]; then
    echo "make-repo: reusing $dir ($commits commits, $files files)" >&2
    exit 0
  fi
  echo "make-repo: $dir has $have_commits commits and $have_files files; regenerating" >&2
  rm -rf "$dir"
elif [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
  echo "make-repo: $dir exists and was not made by make-repo.sh; choose an empty or new directory" >&2
  exit 2
fi

start=$(date +%s)
mkdir -p "$dir"
git init -q -b main "$dir"
git -C "$dir" config user.name "perfguard bench"
git -C "$dir" config user.email "bench@perfguard.invalid"
echo "made by perfguard bench/make-repo.sh $files $commits" >"$dir/$marker"

# The stream. A Park-Miller generator (exact in awk's doubles) instead of rand(), whose
# sequence differs between awk implementations. Files are C sources, headers, Python,
# Markdown and plain text of 8 to 40 lines (about 0.4 to 2.5 kB); a change replaces one line,
# appends one, or deletes one, as real edits do.
awk -v files="$files" -v commits="$commits" '
function rnd(n) { seed = (seed * 16807) % 2147483647; return seed % n }
function line(f, i, k,   r) {
  r = rnd(6)
  if (ext[f] == "md" || ext[f] == "txt")
    return sprintf("%s %d of section %d: %s the %s before step %d.", (r < 3 ? "Note" : "Item"), i, f % 97, verbs[r], nouns[rnd(8)], k)
  if (ext[f] == "py")
    return sprintf("    value_%d = compute_%d(value_%d, %d)  # %s", i, rnd(50), i > 0 ? i - 1 : 0, k, nouns[r])
  return sprintf("  int v%d = step_%d(v%d, %d); /* %s %s */", i, rnd(50), i > 0 ? i - 1 : 0, k, verbs[r], nouns[rnd(8)])
}
function header(f) {
  if (ext[f] == "md") return "# " path[f] "\n\n"
  if (ext[f] == "txt") return path[f] "\n" "====\n"
  if (ext[f] == "py") return "\"\"\"" path[f] "\"\"\"\n\ndef run_" f "(value_0):\n"
  if (ext[f] == "h") return "#pragma once\n/* " path[f] " */\nstatic inline int run_" f "(int v0) {\n"
  return "/* " path[f] " */\n#include \"common.h\"\n\nint run_" f "(int v0) {\n"
}
function footer(f) {
  if (ext[f] == "py") return "    return value_0\n"
  if (ext[f] == "c" || ext[f] == "h") return "  return v0;\n}\n"
  return ""
}
function content(f,   s, i) {
  s = header(f)
  for (i = 1; i <= nlines[f]; i++) s = s body[f, i] "\n"
  return s footer(f)
}
function data(s) { printf "data %d\n%s\n", length(s), s }
function emit(f) { printf "M 100644 inline %s\n", path[f]; data(content(f)) }
function commit(msg) {
  when += 600 + rnd(3000)
  printf "commit refs/heads/main\ncommitter perfguard bench <bench@perfguard.invalid> %d +0000\n", when
  data(msg)
}
BEGIN {
  seed = 20240601; when = 1700000000
  split("c h py md txt", exts, " ")
  split("src lib tests docs tools", tops, " ")
  split("check compute update merge format record", verbs, " "); for (i = 1; i <= 6; i++) verbs[i - 1] = verbs[i]
  split("index cache snapshot buffer parser config journal worker", nouns, " "); for (i = 1; i <= 8; i++) nouns[i - 1] = nouns[i]
  for (f = 0; f < files; f++) {
    pkg = int(f / 100)
    ext[f] = exts[1 + (f % 5)]
    path[f] = sprintf("%s/pkg%02d/mod%d/file%04d.%s", tops[1 + pkg % 5], pkg, int(f / 10) % 10, f, ext[f])
    nlines[f] = 8 + rnd(33)
    for (i = 1; i <= nlines[f]; i++) body[f, i] = line(f, i, 0)
  }
  commit("Add the initial tree\n")
  for (f = 0; f < files; f++) emit(f)
  print ""
  for (k = 1; k < commits; k++) {
    n = 1 + rnd(3)
    delete touched
    msg = ""
    for (j = 0; j < n; j++) {
      f = rnd(files)
      if (f in touched) continue
      touched[f] = 1
      r = rnd(10)
      i = 1 + rnd(nlines[f])
      if (r < 6) body[f, i] = line(f, i, k)
      else if (r < 9 || nlines[f] < 4) { nlines[f]++; body[f, nlines[f]] = line(f, nlines[f], k) }
      else { for (; i < nlines[f]; i++) body[f, i] = body[f, i + 1]; delete body[f, nlines[f]--] }
      msg = msg (msg == "" ? "" : ", ") path[f]
    }
    commit(sprintf("Change %s\n\nChange %d of the benchmark history.\n", msg, k))
    for (f in touched) emit(f)
    print ""
  }
}' | git -C "$dir" fast-import --quiet

git -C "$dir" reset -q --hard main
git -C "$dir" gc -q
echo "make-repo: made $dir ($commits commits, $files files) in $(($(date +%s) - start)) s" >&2
