# docs: the man pages and shell completions say what the tools really do. Options come
# from the built tools' --help, views and record fields from a real store and real output,
# so a change to a tool that the docs do not follow fails here.

DOCS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
DOCS_TOOLS="perf-commit perf-rollback perf-baseline perf-alerts perf-recover perfguard-hooks"
DOCS_PAGES="man/perf-commit.1 man/perf-rollback.1 man/perf-baseline.1 man/perf-alerts.1
  man/perf-recover.1 man/perfguard-hooks.1 man/perfguard.toml.5 man/perfguard.7"

# man_text PAGE: the page as a reader sees it, in plain text (mandoc, else groff).
man_text() {
  local page=$DOCS_ROOT/$1
  if command -v mandoc >/dev/null; then
    mandoc -T ascii "$page" | sed $'s/.\b//g'
  else
    groff -mandoc -T ascii -P -cbou "$page"
  fi
}
need_man_renderer() {
  command -v mandoc >/dev/null || command -v groff >/dev/null ||
    skip "neither mandoc nor groff is installed"
}

# help_long_options TOOL [SUBCOMMAND] / help_short_options TOOL [SUBCOMMAND]: what the
# built tool's --help (or its subcommand's) lists: the options its lines start with, not
# those a description names (perf-alerts' list of subcommands names check's --fail-on).
help_long_options() {
  "$PERFGUARD_BIN/$1" "${@:2}" --help | sed -nE 's/^  (-[A-Za-z],)?(--[a-z][a-z-]*).*/\2/p' |
    sort -u
}
help_short_options() {
  "$PERFGUARD_BIN/$1" "${@:2}" --help | sed -nE 's/^ +(-[A-Za-z])([ ,].*|$)/\1/p' | sort -u
}
# help_subcommands TOOL: the subcommands the built tool's --help lists (none for most).
help_subcommands() {
  "$PERFGUARD_BIN/$1" --help | sed -n '/^Subcommands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p'
}

# has_word FILE WORD: WORD occurs in FILE, not as part of a longer option name.
has_word() {
  grep -qE -- "(^|[^A-Za-z0-9_-])$2([^A-Za-z0-9_-]|$)" "$1"
}

# bash_complete WORD…: loads the tool's bash completion and prints, one per line, what it
# offers for the command line WORD… (the last word is the one being completed).
bash_complete() {
  local tool=$1 fn
  # shellcheck disable=SC1090
  source "$DOCS_ROOT/completions/bash/$tool" || fail "sourcing completions/bash/$tool"
  fn=$(complete -p "$tool" 2>/dev/null | sed -n 's/.*-F \([^ ]*\).*/\1/p')
  [[ -n $fn ]] || fail "completions/bash/$tool does not register a function for $tool"
  COMP_WORDS=("$@")
  COMP_CWORD=$(($# - 1))
  COMP_LINE="$*"
  COMP_POINT=${#COMP_LINE}
  COMPREPLY=()
  "$fn" "$tool" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}" 2>/dev/null
  printf '%s\n' "${COMPREPLY[@]}"
}

# repo_with_snapshot: a repository r with one real rollback done; SNAPSHOT_ID is the
# snapshot it took.
repo_with_snapshot() {
  make_repo r 3
  echo local >r/file.txt
  run perf-rollback -C r --json
  expect_status 0
  local id
  id=$(sed -n 's/.*"snapshot":{"id":"\([^"]*\)".*/\1/p' "$TEST_DIR/out")
  [[ -n $id ]] || fail "no snapshot id in perf-rollback's output"
  expect_eq "$(git -C r for-each-ref --format='%(refname:lstrip=3)' refs/perfguard/snapshots/)" "$id" "snapshot ref"
  SNAPSHOT_ID=$id
}

# repo_with_open_alert [DIR]: a repository DIR (default r) whose commit breached a 1us
# threshold; ALERT_ID is the open alert that raised.
repo_with_open_alert() {
  local dir=${1:-r}
  make_repo "$dir" 1
  echo x >"$dir/x"
  run perf-commit -C "$dir" --threshold 1us -m x
  expect_status 3
  expect_stdout_contains "alert #"
  ALERT_ID=$(sql "$(store_of "$dir")" "select id from open_alerts where rule = 'threshold'")
  [[ -n $ALERT_ID ]] || fail "no open threshold alert in the store"
}

test_every_man_page_passes_mandoc_lint() {
  command -v mandoc >/dev/null || skip "mandoc is not installed"
  local page status
  for page in $DOCS_PAGES; do
    run mandoc -T lint -W warning "$DOCS_ROOT/$page"
    [[ $status -eq 0 && ! -s $TEST_DIR/out && ! -s $TEST_DIR/err ]] ||
      fail "$page: mandoc -T lint -W warning is not clean"
  done
}

test_every_help_option_is_an_item_of_the_tools_man_page_options() {
  need_man_renderer
  local tool opt sub
  for tool in $DOCS_TOOLS; do
    man_text "man/$tool.1" >"$tool.txt"
    [[ -s $tool.txt ]] || fail "man/$tool.1 renders to nothing"
    [[ -n $(help_long_options "$tool") ]] || fail "$tool --help lists no long option"
    # The items of OPTIONS (COMMON OPTIONS with subcommands): `     -q, --quiet`,
    # `     --db path`, `     -C dir  Run as…`.
    sed -nE '/^(COMMON )?OPTIONS/,/^[A-Z]/p' "$tool.txt" | grep -E '^     -' >items.txt
    for opt in $(help_long_options "$tool") $(help_short_options "$tool"); do
      has_word "$tool.txt" "$opt" || fail "man/$tool.1 does not mention $opt"
      grep -qE -- "^     (.*, )?$opt([ ,=]|$)" items.txt || fail "man/$tool.1: OPTIONS has no item for $opt"
    done
    # A subcommand's own options are items of its subsection (`   compute`); its -h and
    # --help are the common ones.
    for sub in $(help_subcommands "$tool"); do
      awk -v s="   $sub" '$0 == s { on = 1; next } on && /^(   )?[^ ]/ { exit } on' "$tool.txt" |
        grep -E '^     -' >sub-items.txt
      for opt in $(help_long_options "$tool" "$sub") $(help_short_options "$tool" "$sub"); do
        [[ $opt == -h || $opt == --help ]] && continue
        grep -qE -- "^     (.*, )?$opt([ ,=]|$)" sub-items.txt ||
          fail "man/$tool.1: the subsection $sub has no item for $opt"
      done
    done
  done
}

test_every_help_option_is_in_each_completion_file() {
  local tool opt name sub
  for tool in $DOCS_TOOLS; do
    for opt in $(help_long_options "$tool") $(for sub in $(help_subcommands "$tool"); do
      help_long_options "$tool" "$sub"; done | sort -u); do
      name=${opt#--}
      has_word "$DOCS_ROOT/completions/bash/$tool" "$opt" ||
        fail "completions/bash/$tool lacks $opt"
      # An _arguments spec: `'--db=[…`, `'*--git-arg=-[…`, `{-q,--quiet}'[…`.
      grep -qE -- "$opt(=-?)?(\\[|\\})" "$DOCS_ROOT/completions/zsh/_$tool" ||
        fail "completions/zsh/_$tool has no spec for $opt"
      grep -qE -- "-l $name( |$)" "$DOCS_ROOT/completions/fish/$tool.fish" ||
        fail "completions/fish/$tool.fish lacks -l $name"
    done
    for opt in $(help_short_options "$tool") $(for sub in $(help_subcommands "$tool"); do
      help_short_options "$tool" "$sub"; done | sort -u); do
      has_word "$DOCS_ROOT/completions/bash/$tool" "$opt" ||
        fail "completions/bash/$tool lacks $opt"
      grep -qE -- "[{']$opt\\+?[,[]" "$DOCS_ROOT/completions/zsh/_$tool" ||
        fail "completions/zsh/_$tool has no spec for $opt"
      grep -qE -- "-s ${opt#-}( |$)" "$DOCS_ROOT/completions/fish/$tool.fish" ||
        fail "completions/fish/$tool.fish lacks -s ${opt#-}"
    done
  done
}

test_tool_man_pages_give_every_exit_code_and_variable() {
  need_man_renderer
  local tool code var
  for tool in $DOCS_TOOLS; do
    man_text "man/$tool.1" | sed -n '/^EXIT STATUS/,/^EXAMPLES/p' >exit.txt
    for code in 0 1 2 3 4 5 124 130; do
      grep -qE "^ +$code( |$)" exit.txt || fail "man/$tool.1: EXIT STATUS lacks $code"
    done
    man_text "man/$tool.1" | sed -n '/^ENVIRONMENT/,/^FILES/p' >env.txt
    for var in PERFGUARD_DB PERFGUARD_THRESHOLDS_COMMIT PERFGUARD_THRESHOLDS_ROLLBACK \
      PERFGUARD_THRESHOLDS_VALIDATE PERFGUARD_TIMEOUTS_COMMIT PERFGUARD_TIMEOUTS_ROLLBACK \
      PERFGUARD_TIMEOUTS_VALIDATE PERFGUARD_STORE_BUSY_TIMEOUT NO_COLOR; do
      has_word env.txt "$var" || fail "man/$tool.1: ENVIRONMENT lacks $var"
    done
  done
  man_text man/perf-rollback.1 | grep -q PERFGUARD_TEST_FAULT ||
    fail "perf-rollback(1) does not name PERFGUARD_TEST_FAULT"
  man_text man/perf-commit.1 | grep -q PERFGUARD_TEST_FAULT &&
    fail "perf-commit(1) names PERFGUARD_TEST_FAULT, which only perf-rollback reads"
  true
}

test_perfguard_7_lists_every_column_of_every_public_view() {
  need_man_renderer
  command -v sqlite3 >/dev/null || skip "sqlite3 is not installed"
  make_repo r 1
  echo x >r/x
  run perf-commit -C r -m x
  expect_status 0
  local db view col n=0
  db=$(store_of r)
  man_text man/perfguard.7 >page.txt
  for view in $(sql "$db" "select name from sqlite_master where type = 'view' order by name"); do
    n=$((n + 1))
    has_word page.txt "$view" || fail "perfguard(7) does not document the view $view"
    # The view's paragraph, in the SQL VIEWS section: from its name (and the text beside a
    # short name) to the next view's (or the section's end).
    awk -v v="$view" '/^SQL VIEWS/ { s = 1; next } s && /^[A-Z]/ { exit }
      s && !on && $1 == v { on = 1; $1 = ""; print; next }
      on && /^     [a-z_]+($|   )/ { exit } on' page.txt >view.txt
    [[ -s view.txt ]] || fail "perfguard(7) has no paragraph for the view $view"
    for col in $(sql "$db" "select name from pragma_table_info('$view')"); do
      has_word view.txt "$col" || fail "perfguard(7): view $view lacks column $col"
    done
  done
  [[ $n -ge 4 ]] || fail "the store has only $n views"
}

test_perfguard_7_lists_every_record_field_and_csv_column() {
  need_man_renderer
  command -v jq >/dev/null || skip "jq is not installed"
  make_repo r 1
  man_text man/perfguard.7 >page.txt
  echo x >r/x
  run perf-commit -C r -m x --json -k ticket=T-1
  expect_status 0
  local field
  for field in $(jq -r '(keys_unsorted[]), (.steps[0] | keys_unsorted[]),
      (.steps[0].spans[0] | keys_unsorted[])' "$TEST_DIR/out" | sort -u); do
    has_word page.txt "$field" || fail "perfguard(7) does not document the json field $field"
  done
  echo y >r/y
  run perf-commit -C r -m y --format csv
  expect_status 0
  for field in $(head -1 "$TEST_DIR/out" | tr ',' ' '); do
    has_word page.txt "$field" || fail "perfguard(7) does not document the csv column $field"
  done
}

test_perfguard_toml_5_documents_every_table_and_key() {
  need_man_renderer
  make_repo r 1
  man_text man/perfguard.toml.5 >page.txt
  local tables table keys key
  # The tools name what they accept when they reject what they do not.
  printf '[no_such_table]\n' >r/.perfguard.toml
  run perf-commit -C r -m x
  expect_status 2
  tables=$(sed -n 's/.*expected one of: \([^)]*\)).*/\1/p' "$TEST_DIR/err" | tr -d ,)
  [[ -n $tables ]] || fail "no list of tables in the error"
  for table in $tables; do
    grep -qF "[$table]" page.txt || fail "perfguard.toml(5) has no [$table] section"
    printf '[%s]\nno_such_key = 1\n' "$table" >r/.perfguard.toml
    run perf-commit -C r -m x
    expect_status 2
    keys=$(sed -n 's/.*expected one of: \([^)]*\)).*/\1/p' "$TEST_DIR/err" | tr -d ,)
    [[ -n $keys ]] || fail "no list of keys of [$table] in the error"
    # The table's section: from its heading to the next one.
    awk -v t="   [$table]" '$0 == t { on = 1; next } on && /^   [^ ]/ { exit } on' page.txt >keys.txt
    for key in $keys; do
      has_word keys.txt "$key" || fail "perfguard.toml(5): [$table] lacks $key"
    done
  done
}

# expect_every_option_offered TOOL SHELL FILE [SUBCOMMAND]: FILE (what SHELL offered for
# `TOOL [SUBCOMMAND] -`) holds every option of that --help (`--git-arg=` counts for
# --git-arg).
expect_every_option_offered() {
  local opt
  for opt in $(help_long_options "$1" "${@:4}") $(help_short_options "$1" "${@:4}"); do
    grep -qxE -- "$opt=?" "$3" || fail "$2: $1 ${4:+$4 }-<TAB> does not offer $opt"
  done
}

test_bash_completion_offers_every_help_option() {
  local tool sub
  for tool in $DOCS_TOOLS; do
    bash_complete "$tool" - >offered
    expect_every_option_offered "$tool" bash offered
    for sub in $(help_subcommands "$tool"); do
      bash_complete "$tool" "$sub" - >offered
      expect_every_option_offered "$tool" bash offered "$sub"
    done
  done
}

test_bash_completion_of_perf_baseline_offers_subcommands_then_their_values() {
  local got
  got=$(bash_complete perf-baseline "" | tr '\n' ' ')
  expect_eq "$got" "$(help_subcommands perf-baseline | tr '\n' ' ')" "perf-baseline <TAB>"
  got=$(bash_complete perf-baseline --db x.db st | tr '\n' ' ')
  expect_eq "$got" "stats " "perf-baseline --db x.db st<TAB>"
  got=$(bash_complete perf-baseline stats --format "" | tr '\n' ' ')
  expect_eq "$got" "text json jsonl csv tsv " "perf-baseline stats --format <TAB>"
  got=$(bash_complete perf-baseline import --format "" | tr '\n' ' ')
  expect_eq "$got" "jsonl csv hyperfine journal trace2 " "perf-baseline import --format <TAB>"
  got=$(bash_complete perf-baseline export --format=p | tr '\n' ' ')
  expect_eq "$got" "prometheus " "perf-baseline export --format=p<TAB>"
  got=$(bash_complete perf-baseline compute --step "" | tr '\n' ' ')
  expect_eq "$got" "commit rollback validate recover " "perf-baseline compute --step <TAB>"
  got=$(bash_complete perf-baseline measure --steps commit,r | tr '\n' ' ')
  expect_eq "$got" "commit,rollback " "perf-baseline measure --steps commit,r<TAB>"
  bash_complete perf-baseline show --w >offered
  grep -qx -- --window offered && fail "perf-baseline show --w<TAB> offered compute's --window"
  true
}

test_bash_completion_completes_an_option_name() {
  local got
  got=$(bash_complete perf-commit --for)
  expect_eq "$got" "--format" "perf-commit --for<TAB>"
  got=$(bash_complete perf-rollback --list)
  expect_eq "$got" "--list-snapshots" "perf-rollback --list<TAB>"
}

test_bash_completion_offers_the_formats_and_directories() {
  local got
  got=$(bash_complete perf-commit --format "" | tr '\n' ' ')
  expect_eq "$got" "text json jsonl csv tsv " "perf-commit --format <TAB>"
  got=$(bash_complete perf-rollback --format=j | tr '\n' ' ')
  expect_eq "$got" "json jsonl " "perf-rollback --format=j<TAB>"
  mkdir -p somedir && touch somefile
  got=$(bash_complete perf-commit -C some | tr '\n' ' ')
  expect_eq "$got" "somedir " "perf-commit -C some<TAB>"
}

test_bash_completion_offers_git_arg_in_its_equals_form() {
  local got
  got=$(bash_complete perf-commit --git | tr '\n' ' ')
  expect_eq "$got" "--git-arg= " "perf-commit --git<TAB>"
  got=$(bash_complete perf-commit --git-arg = --no-v | tr '\n' ' ')
  expect_eq "$got" "--no-verify " "perf-commit --git-arg=--no-v<TAB>"
}

test_bash_completion_of_undo_offers_a_real_snapshot_id() {
  repo_with_snapshot
  bash_complete perf-rollback -C r --undo "" >offered
  grep -qxF "$SNAPSHOT_ID" offered || fail "perf-rollback -C r --undo <TAB> did not offer $SNAPSHOT_ID"
  (cd r && bash_complete perf-rollback --undo "${SNAPSHOT_ID:0:8}") >offered
  grep -qxF "$SNAPSHOT_ID" offered || fail "perf-rollback --undo <TAB> in the repository did not offer $SNAPSHOT_ID"
  run perf-rollback -C r --undo "$(head -1 offered)"
  expect_status 0
  expect_eq "$(cat r/file.txt)" local "the offered snapshot restores the local change"
}

test_bash_completion_of_perf_alerts_offers_subcommands_then_their_values() {
  local got
  got=$(bash_complete perf-alerts "" | tr '\n' ' ')
  expect_eq "$got" "$(help_subcommands perf-alerts | tr '\n' ' ')" "perf-alerts <TAB>"
  got=$(bash_complete perf-alerts check --format "" | tr '\n' ' ')
  expect_eq "$got" "text json jsonl csv tsv junit github gitlab " "perf-alerts check --format <TAB>"
  got=$(bash_complete perf-alerts list --format "" | tr '\n' ' ')
  expect_eq "$got" "text json jsonl csv tsv " "perf-alerts list --format <TAB>"
  got=$(bash_complete perf-alerts check --fail-on "" | tr '\n' ' ')
  expect_eq "$got" "info warning critical " "perf-alerts check --fail-on <TAB>"
  got=$(bash_complete perf-alerts list --state s | tr '\n' ' ')
  expect_eq "$got" "snoozed " "perf-alerts list --state s<TAB>"
  got=$(bash_complete perf-alerts list --step = r | tr '\n' ' ')
  expect_eq "$got" "rollback recover " "perf-alerts list --step=r<TAB>"
  bash_complete perf-alerts ack --f >offered
  grep -qx -- --for offered && fail "perf-alerts ack --f<TAB> offered snooze's --for"
  true
}

test_bash_completion_of_ack_offers_a_real_open_alert_id() {
  repo_with_open_alert
  bash_complete perf-alerts -C r ack "" >offered
  grep -qxF "$ALERT_ID" offered || fail "perf-alerts -C r ack <TAB> did not offer #$ALERT_ID"
  (cd r && bash_complete perf-alerts snooze --for 1h "") >offered
  grep -qxF "$ALERT_ID" offered || fail "perf-alerts snooze <TAB> in the repository did not offer #$ALERT_ID"
  bash_complete perf-alerts --db "$(store_of r)" show "" >offered
  grep -qxF "$ALERT_ID" offered || fail "perf-alerts --db STORE show <TAB> did not offer #$ALERT_ID"
  # The offered id is one the tool takes.
  run perf-alerts -C r ack "$(head -1 offered)" --note "on it"
  expect_status 0
  expect_stdout_contains "#$ALERT_ID acknowledged"
  # Nothing to offer from a store that does not exist, and none is made.
  bash_complete perf-alerts --db none.db resolve "" >offered
  grep -q . offered && fail "perf-alerts --db none.db resolve <TAB> offered $(head -1 offered)"
  expect_no_file none.db
  run perf-alerts -C r resolve "$ALERT_ID"
  expect_status 0
  bash_complete perf-alerts -C r resolve "" >offered
  grep -qxF "$ALERT_ID" offered && fail "perf-alerts resolve <TAB> offered the resolved #$ALERT_ID"
  true
}

test_bash_completion_of_target_offers_refs_then_paths() {
  make_repo r 2
  git -C r branch feature
  git -C r tag v1.0
  local got
  got=$(bash_complete perf-rollback -C r fea)
  expect_eq "$got" "feature" "perf-rollback -C r fea<TAB>"
  bash_complete perf-rollback -C r "" >offered
  grep -qxF "HEAD~1" offered || fail "HEAD~1 not offered as a target"
  grep -qxF "v1.0" offered || fail "the tag not offered as a target"
  grep -q perfguard offered && fail "snapshot refs offered as targets"
  got=$(bash_complete perf-rollback -C r HEAD~1 -- "fi")
  expect_eq "$got" "file.txt" "perf-rollback -C r HEAD~1 -- fi<TAB>"
}

# zsh_complete LINE: what zsh's completion, with our files first in $fpath, offers for
# LINE, one per line. It types LINE and a TAB into an interactive zsh on a pseudo-terminal.
zsh_complete() {
  [[ -f $TEST_DIR/complete.zsh ]] || cat >"$TEST_DIR/complete.zsh" <<'EOF'
# complete.zsh DIR LINE: what zsh's completion offers for LINE, with $fpath starting at DIR.
zmodload zsh/zpty || exit 3
zpty z zsh -f -i
zpty -w z "PS1='' PROMPT_EOL_MARK=''; fpath=(${(q)1} \$fpath); autoload -U compinit; compinit -u -D"
zpty -w z 'compadd() { if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi;
  local -a hits; builtin compadd -A hits "$@"; local h; for h in $hits; do print -r -- "<<$h>>"; done;
  builtin compadd "$@"; }'
zpty -w z "bindkey '^I' complete-word"
# Keys typed while zsh still runs the previous line meet the terminal's own line editing,
# where ^U erases them: type the line only once the line editor has started reading.
zpty -w z "zle-line-init() { print -n 'LINE''INIT' }; zle -N zle-line-init"
# ^G after the tab says when the completion is over. The completion runs programs (git), and
# while one runs the terminal may be back in its own line editing: a ^U typed then would be
# taken by the terminal, not zsh. So nothing more is typed until the mark is seen.
zpty -w z "zle-completed() { print -n 'COMP''LETED' }; zle -N zle-completed; bindkey '^G' zle-completed"
zpty -w z "print READY''READY"
zpty -r z out '*READYREADY*LINEINIT*'
zpty -w -n z "$2"$'\t\C-g'
zpty -r z out '*COMPLETED*'
print -r -- "$out" | grep -o '<<[^>]*>>' | sed 's/^<<//; s/>>$//'
zpty -w -n z $'\C-u'
zpty -w z "print DONE''DONE"
zpty -r z rest '*DONEDONE*'
zpty -d z
EOF
  HOME=$TEST_DIR/home timeout 60 zsh -f "$TEST_DIR/complete.zsh" "$DOCS_ROOT/completions/zsh" "$1"
}

test_zsh_completions_parse_and_complete() {
  command -v zsh >/dev/null || skip "zsh is not installed"
  local tool
  for tool in $DOCS_TOOLS; do
    expect_eq "$(head -1 "$DOCS_ROOT/completions/zsh/_$tool")" "#compdef $tool" "first line of _$tool"
    zsh -n "$DOCS_ROOT/completions/zsh/_$tool" || fail "completions/zsh/_$tool does not parse"
  done
  command -v timeout >/dev/null || skip "timeout is not installed"
  require_terminal  # zsh's zpty needs the same /dev/pts
  repo_with_snapshot
  zsh_complete "perf-commit --for" >offered
  grep -qxF -- "--format" offered || fail "zsh: perf-commit --for<TAB> did not offer --format"
  zsh_complete "perf-rollback -C r --undo " >offered
  grep -qxF -- "$SNAPSHOT_ID" offered || fail "zsh: perf-rollback --undo <TAB> did not offer $SNAPSHOT_ID"
  local sub
  for tool in $DOCS_TOOLS; do
    zsh_complete "$tool -" >offered
    expect_every_option_offered "$tool" zsh offered
    for sub in $(help_subcommands "$tool"); do
      zsh_complete "$tool $sub -" >offered
      expect_every_option_offered "$tool" zsh offered "$sub"
    done
  done
  zsh_complete "perf-baseline export --format " >offered
  grep -qxF prometheus offered || fail "zsh: perf-baseline export --format <TAB> did not offer prometheus"
  zsh_complete "perf-baseline " >offered
  grep -qxF compute offered || fail "zsh: perf-baseline <TAB> did not offer compute"
  zsh_complete "perf-alerts " >offered
  for sub in $(help_subcommands perf-alerts); do
    grep -qxF "$sub" offered || fail "zsh: perf-alerts <TAB> did not offer $sub"
  done
  zsh_complete "perf-alerts check --format " >offered
  grep -qxF junit offered || fail "zsh: perf-alerts check --format <TAB> did not offer junit"
  repo_with_open_alert a
  zsh_complete "perf-alerts -C a ack " >offered
  grep -qxF -- "$ALERT_ID" offered || fail "zsh: perf-alerts -C a ack <TAB> did not offer #$ALERT_ID"
}

test_fish_completions_parse_and_complete() {
  command -v fish >/dev/null || skip "fish is not installed"
  local tool
  for tool in $DOCS_TOOLS; do
    fish -n "$DOCS_ROOT/completions/fish/$tool.fish" || fail "completions/fish/$tool.fish does not parse"
  done
  repo_with_snapshot
  fish -c "source '$DOCS_ROOT/completions/fish/perf-commit.fish'; complete -C 'perf-commit --for'" |
    cut -f1 >offered
  grep -qxF -- "--format" offered || fail "fish: perf-commit --for<TAB> did not offer --format"
  fish -c "source '$DOCS_ROOT/completions/fish/perf-rollback.fish'; complete -C 'perf-rollback -C r --undo '" |
    cut -f1 >offered
  grep -qxF -- "$SNAPSHOT_ID" offered || fail "fish: perf-rollback --undo <TAB> did not offer $SNAPSHOT_ID"
  local sub
  for tool in $DOCS_TOOLS; do
    fish -c "source '$DOCS_ROOT/completions/fish/$tool.fish'; complete -C '$tool -'" | cut -f1 >offered
    expect_every_option_offered "$tool" fish offered
    for sub in $(help_subcommands "$tool"); do
      fish -c "source '$DOCS_ROOT/completions/fish/$tool.fish'; complete -C '$tool $sub -'" |
        cut -f1 >offered
      expect_every_option_offered "$tool" fish offered "$sub"
    done
  done
  fish -c "source '$DOCS_ROOT/completions/fish/perf-baseline.fish'; complete -C 'perf-baseline import --format '" |
    cut -f1 >offered
  grep -qxF trace2 offered || fail "fish: perf-baseline import --format <TAB> did not offer trace2"
  grep -qxF text offered && fail "fish: perf-baseline import --format <TAB> offered text"
  fish -c "source '$DOCS_ROOT/completions/fish/perf-alerts.fish'; complete -C 'perf-alerts '" |
    cut -f1 >offered
  for sub in $(help_subcommands perf-alerts); do
    grep -qxF "$sub" offered || fail "fish: perf-alerts <TAB> did not offer $sub"
  done
  fish -c "source '$DOCS_ROOT/completions/fish/perf-alerts.fish'; complete -C 'perf-alerts check --format '" |
    cut -f1 >offered
  grep -qxF gitlab offered || fail "fish: perf-alerts check --format <TAB> did not offer gitlab"
  repo_with_open_alert a
  fish -c "source '$DOCS_ROOT/completions/fish/perf-alerts.fish'; complete -C 'perf-alerts -C a ack '" |
    cut -f1 >offered
  grep -qxF -- "$ALERT_ID" offered || fail "fish: perf-alerts -C a ack <TAB> did not offer #$ALERT_ID"
  true
}

test_cmake_install_puts_every_file_in_its_place() {
  command -v cmake >/dev/null || skip "cmake is not installed"
  local build
  build=$(cd "$PERFGUARD_BIN/.." && pwd)
  [[ -f $build/man/cmake_install.cmake ]] || skip "$build is not configured with man/ (re-run cmake)"
  run cmake --install "$build" --prefix "$TEST_DIR/prefix"
  expect_status 0
  local f tool
  for tool in $DOCS_TOOLS; do
    expect_file_exists "prefix/bin/$tool"
    expect_file_exists "prefix/share/man/man1/$tool.1.gz"
    expect_file_exists "prefix/share/bash-completion/completions/$tool"
    expect_file_exists "prefix/share/zsh/vendor-completions/_$tool"
    expect_file_exists "prefix/share/fish/vendor_completions.d/$tool.fish"
  done
  for f in share/man/man5/perfguard.toml.5.gz share/man/man7/perfguard.7.gz \
    libexec/perfguard/perf-alerts-health libexec/perfguard/perf-alerts-notify \
    libexec/perfguard/perf-recover-inspect libexec/perfguard/perfguard-ship \
    share/doc/perfguard/README.md \
    share/doc/perfguard/copyright share/doc/perfguard/changelog.gz; do
    expect_file_exists "prefix/$f"
  done
  for f in pre-commit prepare-commit-msg commit-msg post-commit post-merge post-checkout \
    post-rewrite pre-push; do
    [[ -x prefix/share/perfguard/hooks/$f ]] || fail "share/perfguard/hooks/$f not installed executable"
  done
  # The compressed page is the page.
  gzip -dc prefix/share/man/man1/perf-commit.1.gz | cmp - "$DOCS_ROOT/man/perf-commit.1" ||
    fail "perf-commit.1.gz is not man/perf-commit.1"
  # Installed, the tools find the programs they run in libexec/perfguard.
  make_repo r
  run env PATH=/usr/bin:/bin "$TEST_DIR/prefix/bin/perf-alerts" -C r health
  expect_status 0
  run env PATH=/usr/bin:/bin "$TEST_DIR/prefix/bin/perf-recover" -C r diagnose
  expect_status 0
  # And a breach's alert reaches its notify command through libexec's perf-alerts-notify.
  mkdir -p "$HOME/.config/perfguard"
  printf '[alerts]\nnotify = ["sh", "-c", "cat >%s/told.tmp && mv %s/told.tmp %s/told.json"]\n' \
    "$TEST_DIR" "$TEST_DIR" "$TEST_DIR" >"$HOME/.config/perfguard/config.toml"
  echo slow >>r/file.txt
  run env PATH=/usr/bin:/bin "$TEST_DIR/prefix/bin/perf-commit" -C r --threshold 1us -m slow
  expect_status 3
  ! grep -q perf-alerts-notify "$TEST_DIR/err" || fail "perf-alerts-notify not found: $(cat "$TEST_DIR/err")"
  wait_for_file told.json
  expect_eq "$(jq -r .alert.rule told.json)" threshold "the alert told"
  # perf-commit starts perfguard-ship from there: its failure to reach the shared store is
  # kept in the store.
  echo more >r/more.txt
  run env PATH=/usr/bin:/bin PERFGUARD_SHARED='postgresql://nobody@/none?host=/nonexistent' \
    "$TEST_DIR/prefix/bin/perf-commit" -C r -q -m more
  expect_status 0
  local i db
  db=$(store_of r)
  for i in $(seq 1 2400); do
    [[ $(sql "$db" "select count(*) from meta where key = 'ship.failure_at_us'") == 1 ]] && break
    sleep 0.05
  done
  expect_sql "$db" "select count(*) from meta where key = 'ship.failure_at_us'" 1
}

test_completions_offer_file_names_from_the_directory_option() {
  # The tools take relative paths from the -C directory: so do their completions.
  mkdir -p r/sub
  touch r/conf.toml r/in.jsonl r/sub/msg conf-here.toml
  local got
  got=$(bash_complete perf-commit -C r --config co)
  expect_eq "$got" "conf.toml" "perf-commit -C r --config co<TAB>"
  got=$(bash_complete perf-commit --config co)
  expect_eq "$got" "conf-here.toml" "perf-commit --config co<TAB>"
  got=$(bash_complete perf-commit -C r -C s)
  expect_eq "$got" "sub" "perf-commit -C r -C s<TAB>"
  got=$(bash_complete perf-commit -C r -C sub -F m)
  expect_eq "$got" "msg" "perf-commit -C r -C sub -F m<TAB>"
  got=$(bash_complete perf-rollback -C r --db co)
  expect_eq "$got" "conf.toml" "perf-rollback -C r --db co<TAB>"
  got=$(bash_complete perf-baseline -C r import i)
  expect_eq "$got" "in.jsonl" "perf-baseline -C r import i<TAB>"
  got=$(bash_complete perf-baseline -C r report -o co)
  expect_eq "$got" "conf.toml" "perf-baseline -C r report -o co<TAB>"
  if command -v fish >/dev/null; then
    got=$(fish -c "source '$DOCS_ROOT/completions/fish/perf-commit.fish'; complete -C 'perf-commit -C r --config co'" | cut -f1)
    expect_eq "$got" "conf.toml" "fish: perf-commit -C r --config co<TAB>"
    got=$(fish -c "source '$DOCS_ROOT/completions/fish/perf-baseline.fish'; complete -C 'perf-baseline -C r import i'" | cut -f1)
    expect_eq "$got" "in.jsonl" "fish: perf-baseline -C r import i<TAB>"
  fi
  # zsh's half needs a pseudo-terminal (zpty); bash's and fish's run without.
  if command -v zsh >/dev/null && command -v timeout >/dev/null && can_make_terminal; then
    got=$(zsh_complete "perf-baseline -C r export -o c")
    expect_eq "$got" "conf.toml" "zsh: perf-baseline -C r export -o c<TAB>"
    got=$(zsh_complete "perf-rollback -C r --config=co")
    expect_eq "$got" "conf.toml" "zsh: perf-rollback -C r --config=co<TAB>"
  fi
}
