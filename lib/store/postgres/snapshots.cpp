// Snapshots, the git version cache and pruning old steps in the shared store.

#include <map>
#include <utility>

#include "core/json_reader.h"
#include "core/text_encoding.h"
#include "store/postgres/postgres_engine.h"
#include "store/postgres/rollups.h"

namespace perfguard {

namespace {

constexpr std::string_view kSnapshotWhat = "cannot record the snapshot";

}  // namespace

Status PostgresStore::forget_snapshots(const std::vector<std::string>& ids, std::int64_t now_us) {
  pq::Connection& c = *connection_;
  pq::Transaction tx(c);
  if (Status s = tx.begin(kSnapshotWhat); !s) return s;
  for (const std::string& id : ids) {
    pq::Params p;
    p.add(id).add(now_us);
    if (auto done = c.exec(kSnapshotWhat,
                           "INSERT INTO pruned_snapshots (id, pruned_us) VALUES ($1, $2)"
                           " ON CONFLICT (id) DO UPDATE SET pruned_us = excluded.pruned_us",
                           p);
        !done) {
      return done.error();
    }
    if (auto done =
            c.exec(kSnapshotWhat, "DELETE FROM snapshots WHERE id = $1", pq::Params().add(id));
        !done) {
      return done.error();
    }
  }
  return tx.commit(kSnapshotWhat);
}

Result<std::vector<StoredSnapshot>> PostgresStore::stored_snapshots() {
  constexpr std::string_view kWhat = "cannot read the snapshots";
  pq::Connection& c = *connection_;
  pq::Transaction tx(c);
  if (Status s = tx.begin(kWhat, "ISOLATION LEVEL REPEATABLE READ READ ONLY"); !s) {
    return s.error();
  }
  // By id, byte by byte (as the SQLite engine orders them).
  std::map<std::string, StoredSnapshot> snapshots;
  auto rows = c.exec(kWhat, "SELECT id, commit_id FROM snapshots");
  if (!rows) return rows.error();
  for (int i = 0; i < rows->size(); ++i) {
    StoredSnapshot& s = snapshots[std::string(rows->text(i, 0))];
    s.id = rows->text(i, 0);
    s.commit = rows->text(i, 1);
    s.row = true;
  }
  // The "snapshot" labels of the steps that took one; a label that is not JSON (written by
  // hand) is skipped, not an error.
  JsonDocument doc;
  Status labels =
      c.for_each_batch(kWhat, "SELECT labels FROM step_rows WHERE labels LIKE '%\"snapshot\"%'", {},
                       [&](const pq::Rows& batch) -> Status {
                         for (int i = 0; i < batch.size(); ++i) {
                           if (doc.parse(batch.encoded(i, 0))) continue;
                           JsonValue id = doc.root().find("snapshot");
                           if (!id.is_string()) continue;
                           StoredSnapshot& s = snapshots[decode_text(id.as_string())];
                           s.id = decode_text(id.as_string());
                           ++s.labelled_steps;
                         }
                         return {};
                       });
  if (!labels) return labels.error();
  auto pruned = c.exec(kWhat, "SELECT id FROM pruned_snapshots");
  if (!pruned) return pruned.error();
  for (int i = 0; i < pruned->size(); ++i) snapshots.erase(std::string(pruned->text(i, 0)));
  std::vector<StoredSnapshot> out;
  for (auto& [id, s] : snapshots) out.push_back(std::move(s));
  return out;
}

std::optional<std::string> PostgresStore::cached_git_version(const std::string& key) {
  auto rows =
      connection_->exec("cannot read the git version", "SELECT value FROM meta WHERE key = $1",
                        pq::Params().add("git-version:" + key));
  if (!rows || rows->size() != 1) return std::nullopt;
  return std::string(rows->text(0, 0));
}

Status PostgresStore::cache_git_version(const std::string& key, const std::string& version) {
  auto done = connection_->exec("cannot cache the git version",
                                "INSERT INTO meta (key, value) VALUES ($1, $2)"
                                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                                pq::Params().add("git-version:" + key).add(version));
  if (!done) return done.error();
  return {};
}

Result<PruneCounts> PostgresStore::prune_steps(std::int64_t before_us, bool dry_run) {
  constexpr std::string_view kWhat = "cannot prune the recorded steps";
  pq::Connection& c = *connection_;
  pq::Transaction tx(c);
  if (Status s = tx.begin(kWhat); !s) return s.error();
  auto count = c.exec(kWhat,
                      "SELECT count(*), (SELECT count(*) FROM span_rows WHERE step_id IN"
                      " (SELECT id FROM step_rows WHERE started_us < $1))"
                      " FROM step_rows WHERE started_us < $1",
                      pq::Params().add(before_us));
  if (!count) return count.error();
  PruneCounts counts{count->int64(0, 0), count->int64(0, 1)};
  if (dry_run || counts.steps == 0) return counts;  // the transaction rolls back
  tick();
  // The spans go with their steps, and the hours they were in are marked stale (the
  // triggers), then rolled up again here.
  if (auto deleted =
          c.exec(kWhat, "DELETE FROM step_rows WHERE started_us < $1", pq::Params().add(before_us));
      !deleted) {
    return deleted.error();
  }
  tick();
  auto stale = stale_hours(c);
  if (!stale) return stale.error();
  if (Status s = rebuild_hours(c, std::move(*stale)); !s) return s.error();
  if (Status s = tx.commit(kWhat); !s) return s.error();
  return counts;
}

Status PostgresStore::catch_up() {
  constexpr std::string_view kWhat = "cannot roll up the recorded steps";
  pq::Connection& c = *connection_;
  // Most of the time there is nothing to do: found out without a write, the first time from
  // what the store read as it opened (a command catches up right after), later by asking.
  if (const std::optional<bool> opened = std::exchange(stale_when_opened_, std::nullopt)) {
    if (!*opened) return {};
  } else {
    auto any = c.exec(kWhat, "SELECT EXISTS (SELECT 1 FROM stale_hours)");
    if (!any) return any.error();
    if (!any->boolean(0, 0)) return {};
  }
  pq::Transaction tx(c);
  if (Status s = tx.begin(kWhat); !s) return s;
  auto stale = stale_hours(c);
  if (!stale) return stale.error();
  if (Status s = rebuild_hours(c, std::move(*stale)); !s) return s;
  return tx.commit(kWhat);
}

}  // namespace perfguard
