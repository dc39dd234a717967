#!/usr/bin/env python3
"""Writes command_docs.inc: what COMMAND DOCS tells about each command besides its
arguments (summary, since, group, complexity, doc flags, deprecation, history).

Facts, not code: asked of a running redis-server 7.0 (its COMMAND DOCS answer, RESP2),
plus the rows of EXTRA below for the commands Ferrite has from later Redis versions
(taken from their pages on redis.io). Run it again when moving to another version:

    redis-server --port 7915 --save '' &
    host/gen_command_docs.py 7915 > host/command_docs.inc

Sentinel-only commands are not listed (redis-server does not report them).
"""
import socket
import sys

# Commands from Redis versions after 7.0 that Ferrite implements, as redis.io documents
# them: fullname -> (summary, since, group, complexity).
EXTRA = {
    "hexpire": ("Set expiry for hash field using relative time to expire (seconds)", "7.4.0",
                "hash", "O(N) where N is the number of specified fields"),
    "hpexpire": ("Set expiry for hash field using relative time to expire (milliseconds)",
                 "7.4.0", "hash", "O(N) where N is the number of specified fields"),
    "hexpireat": ("Set expiry for hash field using an absolute Unix timestamp (seconds)",
                  "7.4.0", "hash", "O(N) where N is the number of specified fields"),
    "hpexpireat": ("Set expiry for hash field using an absolute Unix timestamp (milliseconds)",
                   "7.4.0", "hash", "O(N) where N is the number of specified fields"),
    "httl": ("Returns the TTL in seconds of a hash field.", "7.4.0", "hash",
             "O(N) where N is the number of specified fields"),
    "hpttl": ("Returns the TTL in milliseconds of a hash field.", "7.4.0", "hash",
              "O(N) where N is the number of specified fields"),
    "hexpiretime": ("Returns the expiration time of a hash field as a Unix timestamp, in "
                    "seconds.", "7.4.0", "hash",
                    "O(N) where N is the number of specified fields"),
    "hpexpiretime": ("Returns the expiration time of a hash field as a Unix timestamp, in "
                     "msec.", "7.4.0", "hash", "O(N) where N is the number of specified fields"),
    "hpersist": ("Removes the expiration time for each specified field", "7.4.0", "hash",
                 "O(N) where N is the number of specified fields"),
    "hgetdel": ("Returns the value of a field and deletes it from the hash.", "8.0.0", "hash",
                "O(N) where N is the number of specified fields"),
    "hgetex": ("Get the value of one or more fields of a given hash key, and optionally set "
               "their expiration.", "8.0.0", "hash",
               "O(N) where N is the number of specified fields"),
    "hsetex": ("Set the value of one or more fields of a given hash key, and optionally set "
               "their expiration.", "8.0.0", "hash", "O(N) where N is the number of fields "
               "being set."),
    "msetex": ("Atomically sets multiple string keys with a shared expiration in a single "
               "operation. Supports flexible argument parsing where condition and expiration "
               "flags can appear in any order.", "8.4.0", "string",
               "O(N) where N is the number of keys to set."),
    "delex": ("Conditionally removes the specified key based on value or digest comparison.",
              "8.4.0", "string", "O(1) for IFEQ/IFNE, O(N) for IFDEQ/IFDNE where N is the "
              "length of the string value."),
    "xackdel": ("Acknowledges and conditionally deletes one or multiple entries (messages) for "
                "a stream consumer group at the specified key.", "8.2.0", "stream",
                "O(1) for each entry ID processed."),
    "xdelex": ("Deletes one or multiple entries from the stream.", "8.2.0", "stream",
               "O(1) for each single item to delete in the stream, regardless of the stream "
               "size."),
    "digest": ("Returns the XXH3 hash of a string value.", "8.4.0", "string",
               "O(N) where N is the length of the string value."),
}

DOC_FLAGS = {"deprecated": "kDocDeprecated", "syscmd": "kDocSyscmd"}


def read(f):
    line = f.readline()
    t, rest = line[:1], line[1:-2]
    if t == b"+":
        return rest.decode()
    if t == b":":
        return int(rest)
    if t == b"$":
        return f.read(int(rest) + 2)[:-2].decode()
    if t == b"*":
        return [read(f) for _ in range(int(rest))]
    raise ValueError("unexpected reply %r" % line)


def pairs(lst):
    return {lst[i]: lst[i + 1] for i in range(0, len(lst), 2)}


def docs(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(b"*2\r\n$7\r\nCOMMAND\r\n$4\r\nDOCS\r\n")
    raw = read(s.makefile("rb"))
    s.close()
    out = {}
    for name, d in pairs(raw).items():
        d = pairs(d)
        out[name] = d
        for sub, sd in pairs(d.get("subcommands", [])).items():
            out[sub] = pairs(sd)
    return out


def c_str(s):
    if s is None:
        return "nullptr"
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


def main(port):
    rows = docs(port)
    for name, (summary, since, group, complexity) in EXTRA.items():
        assert name not in rows, name + " is in Redis 7.0 already"
        rows[name] = {"summary": summary, "since": since, "group": group,
                      "complexity": complexity}
    print("// Generated by host/gen_command_docs.py from redis-server 7.0's COMMAND DOCS (and")
    print("// the script's rows for later Redis versions). Do not edit: run the script again.")
    print("// FERRITE_DOC(fullname, summary, since, group, complexity, doc flags,")
    print("//             deprecated since, replaced by)")
    print("// FERRITE_DOC_HISTORY(fullname, version, what changed)")
    for name in sorted(rows):
        d = rows[name]
        flags = " | ".join(DOC_FLAGS[f] for f in d.get("doc_flags", [])) or "0"
        print("FERRITE_DOC(%s, %s, %s, %s, %s, %s, %s, %s)" % (
            c_str(name), c_str(d.get("summary")), c_str(d.get("since")), c_str(d["group"]),
            c_str(d.get("complexity")), flags, c_str(d.get("deprecated_since")),
            c_str(d.get("replaced_by"))))
    for name in sorted(rows):
        for version, text in rows[name].get("history", []):
            print("FERRITE_DOC_HISTORY(%s, %s, %s)" % (c_str(name), c_str(version), c_str(text)))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 6379)
