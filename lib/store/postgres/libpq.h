#pragma once
// libpq, loaded the first time a program opens a shared store. Linked, the library and the
// two dozen it needs (Kerberos, LDAP, GnuTLS, SASL, …) cost every start of perf-baseline and
// perf-alerts about 3 ms of loading and relocating, whether it opens a shared store or not;
// most never do. pq.cpp is the only caller: it loads it in Connection::open and calls it
// through libpq() afterwards.

#include <libpq-fe.h>

#include "core/result.h"

namespace perfguard::pq {

// The functions the engine calls, named as libpq names them.
// clang-format off
#define PERFGUARD_LIBPQ_FUNCTIONS(X) \
  X(PQclear) \
  X(PQcmdTuples) \
  X(PQconnectdb) \
  X(PQconninfoFree) \
  X(PQconninfoParse) \
  X(PQdb) \
  X(PQenterPipelineMode) \
  X(PQerrorMessage) \
  X(PQescapeLiteral) \
  X(PQexec) \
  X(PQexecParams) \
  X(PQexitPipelineMode) \
  X(PQfinish) \
  X(PQfreemem) \
  X(PQgetCopyData) \
  X(PQgetResult) \
  X(PQgetisnull) \
  X(PQgetlength) \
  X(PQgetvalue) \
  X(PQhost) \
  X(PQntuples) \
  X(PQpass) \
  X(PQpipelineSync) \
  X(PQport) \
  X(PQputCopyData) \
  X(PQputCopyEnd) \
  X(PQresultErrorField) \
  X(PQresultErrorMessage) \
  X(PQresultStatus) \
  X(PQsendQueryParams) \
  X(PQsetNoticeProcessor) \
  X(PQsetSingleRowMode) \
  X(PQstatus) \
  X(PQtransactionStatus) \
  X(PQunescapeBytea) \
  X(PQuser)
// clang-format on

struct Libpq {
#define PERFGUARD_LIBPQ_POINTER(name) decltype(&::name) name = nullptr;
  PERFGUARD_LIBPQ_FUNCTIONS(PERFGUARD_LIBPQ_POINTER)
#undef PERFGUARD_LIBPQ_POINTER
};

// Loads libpq (libpq.so.5) once; an Error (ExitCode::store) says what is missing.
Status load_libpq();

// The loaded library: only after load_libpq() succeeded.
const Libpq& libpq();

}  // namespace perfguard::pq
