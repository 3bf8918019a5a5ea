#pragma once
// What would make git faster here, ranked, each with the exact command that applies it:
// settings of the repository's own config and maintenance tasks. Decided from the facts
// alone (recover/diagnosis.h), so it is the same for diagnose, which shows them, and
// optimize, which shows or applies them.
//
// Never recommended: index.skipHash (libgit2 1.5, which perfguard's health checks and
// snapshot verification read the index with, cannot read such an index), nor
// feature.manyFiles, which turns it on in git 2.40 and later; its other parts
// (core.untrackedCache, index.version 4) are recommended one by one instead.

#include <string>
#include <vector>

#include "recover/diagnosis.h"

namespace perfguard {

struct Recommendation {
  int rank = 0;       // 1 first: the most time saved for the steps perfguard times
  std::string kind;   // "config" (the repository's config) or "maintenance"
  std::string name;   // the setting ("core.untrackedCache") or the task ("commit-graph")
  std::string value;  // config: the value set
  std::vector<std::string> argv;  // the git command that applies it, run as it is
  std::string command;            // argv as one line for a shell
  std::string reason;             // one sentence for a person
};

// Ranked, rank 1 first; empty when nothing would help.
std::vector<Recommendation> recommend(const RepositoryFacts& facts);

// Lines a person should know that no setting here changes (what this platform's git lacks).
std::vector<std::string> platform_notes(const RepositoryFacts& facts);

// `words` as a line a POSIX shell reads back as them.
std::string shell_line(const std::vector<std::string>& words);

}  // namespace perfguard
