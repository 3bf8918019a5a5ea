# What "exactly as it was" means for a rollback and its undo.

# exact_state DIR: every path below DIR (nested repositories' .git included, the top .git
# left out) with its type, permission bits and bytes (a symlink's target), then the index
# with its flags and stages, HEAD, and the state files of an interrupted merge.
exact_state() {
  (
    cd "$1" || exit 1
    find . -path ./.git -prune -o -mindepth 1 -print0 | LC_ALL=C sort -z |
      while IFS= read -r -d '' p; do
        if [[ -L $p ]]; then
          printf 'l %s %s -> %s\n' "$(stat -c %a "$p")" "$p" "$(readlink "$p")"
        elif [[ -d $p ]]; then
          printf 'd %s %s\n' "$(stat -c %a "$p")" "$p"
        elif [[ ! -f $p ]]; then
          printf '%s %s %s\n' "$(stat -c %F "$p")" "$(stat -c %a "$p")" "$p"
        else
          printf 'f %s %s %s\n' "$(stat -c %a "$p")" "$p" "$(sha256sum <"$p" | cut -c1-16)"
        fi
      done
    echo "HEAD $(git rev-parse HEAD) $(git symbolic-ref -q HEAD || echo detached)"
    git ls-files -s -v --debug | grep -v -E '^  (ctime|mtime|dev|ino|uid|size)'
    git ls-files -t -v | grep -E '^[a-zS] ' || true
    for f in MERGE_HEAD MERGE_MSG CHERRY_PICK_HEAD; do
      [[ -e .git/$f ]] && echo "$f $(sha256sum <.git/$f | cut -c1-16)"
    done
    true
  )
}

