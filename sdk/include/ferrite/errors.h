/*
 * Redis' wire text for each ferrite_error_code. Header-only, pure C.
 *
 * The RESP plugin renders errors with it, and the host's capturing reply sink (used by
 * call(), i.e. scripting) gives scripts the same text a RESP client would see, so the
 * mapping lives in exactly one place.
 *
 * Contract: a non-empty `detail` is the complete message, except for
 * FERRITE_E_ARITY, where it is the command name.
 */
#ifndef FERRITE_ERRORS_H
#define FERRITE_ERRORS_H

#include <stdio.h>
#include <string.h>

#include "ferrite/module.h"

#ifdef __cplusplus
extern "C" {
#endif

static inline const char* ferrite_error_default_text(ferrite_error_code code) {
  switch (code) {
    case FERRITE_E_WRONGTYPE:
      return "WRONGTYPE Operation against a key holding the wrong kind of value";
    case FERRITE_E_NOT_INTEGER: return "ERR value is not an integer or out of range";
    case FERRITE_E_NOT_FLOAT: return "ERR value is not a valid float";
    case FERRITE_E_SYNTAX: return "ERR syntax error";
    case FERRITE_E_ARITY: return "ERR wrong number of arguments";
    case FERRITE_E_UNKNOWN_CMD: return "ERR unknown command";
    case FERRITE_E_OOM: return "OOM command not allowed when used memory > 'maxmemory'.";
    case FERRITE_E_NO_SUCH_KEY: return "ERR no such key";
    case FERRITE_E_OVERFLOW: return "ERR increment or decrement would overflow";
    case FERRITE_E_NOAUTH: return "NOAUTH Authentication required.";
    case FERRITE_E_WRONGPASS:
      return "WRONGPASS invalid username-password pair or user is disabled.";
    case FERRITE_E_EXECABORT:
      return "EXECABORT Transaction discarded because of previous errors.";
    case FERRITE_E_NOSCRIPT: return "NOSCRIPT No matching script. Please use EVAL.";
    case FERRITE_E_BUSY:
      return "BUSY Redis is busy running a script. You can only call SCRIPT KILL or "
             "SHUTDOWN NOSAVE.";
    case FERRITE_E_OUT_OF_RANGE: return "ERR index out of range";
    case FERRITE_E_TOO_LARGE:
      return "ERR string exceeds maximum allowed size (proto-max-bulk-len)";
    case FERRITE_E_MISCONF:
      return "MISCONF Errors writing to disk. Commands that may modify the data set are "
             "disabled. Please check the server logs for details about the error.";
    case FERRITE_E_READONLY: return "READONLY You can't write against a read only replica.";
    case FERRITE_E_BAD_DATA: return "ERR Protocol error";
    case FERRITE_E_GENERIC:
    default: return "ERR";
  }
}

/* Writes the RESP error text (without the leading '-' and trailing CRLF) into buf and
 * returns its length (truncated to cap). */
static inline size_t ferrite_error_format(ferrite_error_code code, const char* detail,
                                          size_t detail_len, char* buf, size_t cap) {
  int n;
  if (cap == 0) return 0;
  if (code == FERRITE_E_ARITY && detail_len > 0) {
    n = snprintf(buf, cap, "ERR wrong number of arguments for '%.*s' command",
                 (int)detail_len, detail);
  } else if (detail_len > 0) {
    n = snprintf(buf, cap, "%.*s", (int)detail_len, detail);
  } else {
    n = snprintf(buf, cap, "%s", ferrite_error_default_text(code));
  }
  if (n < 0) return 0;
  return (size_t)n < cap ? (size_t)n : cap - 1;
}

#ifdef __cplusplus
}
#endif

#endif /* FERRITE_ERRORS_H */
