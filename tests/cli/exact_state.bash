# What "exactly as it was" means for a rollback and its undo.

# exact_state DIR: every path below DIR (nested repositories' .git included, the top .git
# left out) with its type, permission bits and bytes (a symlink's target), then the index
# with its flags and stages, HEAD, and the state files of an interrupted merge.
exact_state() {
  (
    cd "$1" || exit 1
    # Whole-tree passes (one find, one sha256sum), not a process per file: a tree of
    # thousands of files is read in a fraction of a second, not a minute.
    find . -path ./.git -prune -o -mindepth 1 \
      \( -type l -printf 'l %m %p -> %l\0' -o -printf '%y %m %p\0' \) |
      LC_ALL=C sort -z | tr '\0' '\n'
    find . -path ./.git -prune -o -type f -print0 | LC_ALL=C sort -z |
      xargs -0 -r sha256sum -z | tr '\0' '\n'
    echo "HEAD $(git rev-parse HEAD) $(git symbolic-ref -q HEAD || echo detached)"
    git ls-files -s -v --debug | grep -v -E '^  (ctime|mtime|dev|ino|uid|size)'
    git ls-files -t -v | grep -E '^[a-zS] ' || true
    for f in MERGE_HEAD MERGE_MSG CHERRY_PICK_HEAD; do
      [[ -e .git/$f ]] && echo "$f $(sha256sum <.git/$f | cut -c1-16)"
    done
    true
  )
}

