#!/usr/bin/env python3
"""Writes command_docs.inc: what COMMAND DOCS tells about each command (summary, since,
group, complexity, doc flags, deprecation, history, arguments) and the parts of COMMAND
INFO that are documentation rather than behaviour (command tips, key spec notes).

Facts, not code: asked of a running redis-server 7.0 (its COMMAND DOCS and COMMAND INFO
answers, RESP2), plus the rows of EXTRA below for the commands Ferrite has from later
Redis versions (taken from their pages on redis.io), whose arguments are read from those
versions' command JSON files (src/commands/<name>.json in Redis' source) in LATER_JSON_DIR.
Run it again when moving to another version:

    redis-server --port 7915 --save '' &
    host/gen_command_docs.py 7915 LATER_JSON_DIR > host/command_docs.inc

Sentinel-only commands are not listed (redis-server does not report them).
"""
import json
import os
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
ARG_FLAGS = {"optional": "kArgOptional", "multiple": "kArgMultiple",
             "multiple_token": "kArgMultipleToken"}


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


def ask(port, *words):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    req = "*%d\r\n" % len(words) + "".join("$%d\r\n%s\r\n" % (len(w), w) for w in words)
    s.sendall(req.encode())
    raw = read(s.makefile("rb"))
    s.close()
    return raw


def docs(port):
    out = {}
    for name, d in pairs(ask(port, "COMMAND", "DOCS")).items():
        d = pairs(d)
        out[name] = d
        for sub, sd in pairs(d.get("subcommands", [])).items():
            out[sub] = pairs(sd)
    return out


def infos(port):
    """fullname -> (tips, key spec notes by index) from COMMAND INFO."""
    out = {}

    def walk(entry):
        name, tips, specs = entry[0], entry[7], entry[8]
        notes = {i: pairs(ks)["notes"] for i, ks in enumerate(specs) if "notes" in pairs(ks)}
        out[name] = (tips, notes)
        for sub in entry[9]:
            walk(sub)

    for entry in ask(port, "COMMAND", "INFO"):
        walk(entry)
    return out


def reply_args(args):
    """COMMAND DOCS' argument maps (RESP2 lists) -> dicts, subarguments included."""
    out = []
    for a in args:
        a = pairs(a)
        if "arguments" in a:
            a["arguments"] = reply_args(a["arguments"])
        out.append(a)
    return out


def json_args(args):
    """A command JSON file's arguments -> the dicts COMMAND DOCS would answer (Redis 7.0's
    shape: no display text, flags from the optional/multiple/multiple_token keys)."""
    out = []
    for a in args:
        d = {"name": a["name"], "type": a["type"]}
        for k in ("key_spec_index", "token", "summary", "since", "deprecated_since"):
            if k in a:
                d[k] = a[k]
        flags = [f for f in ARG_FLAGS if a.get(f)]
        if flags:
            d["flags"] = flags
        if "arguments" in a:
            d["arguments"] = json_args(a["arguments"])
        out.append(d)
    return out


def later_args(directory, fullname):
    path = os.path.join(directory, fullname.replace("|", "-") + ".json")
    with open(path) as f:
        (desc,) = json.load(f).values()
    return json_args(desc.get("arguments", []))


def arg_rows(fullname, args, depth=0):
    for a in args:
        flags = " | ".join(ARG_FLAGS[f] for f in a.get("flags", [])) or "0"
        yield "FERRITE_DOC_ARG(%s, %d, %s, %s, %d, %s, %s, %s, %s, %s)" % (
            c_str(fullname), depth, c_str(a["name"]), c_str(a["type"]),
            a.get("key_spec_index", -1), c_str(a.get("token")), c_str(a.get("summary")),
            c_str(a.get("since")), c_str(a.get("deprecated_since")), flags)
        yield from arg_rows(fullname, a.get("arguments", []), depth + 1)


def c_str(s):
    if s is None:
        return "nullptr"
    return '"%s"' % s.replace("\\", "\\\\").replace('"', '\\"')


def main(port, later_dir):
    rows = docs(port)
    for d in rows.values():
        d["arguments"] = reply_args(d.get("arguments", []))
    tips_notes = infos(port)
    for name, (summary, since, group, complexity) in EXTRA.items():
        assert name not in rows, name + " is in Redis 7.0 already"
        rows[name] = {"summary": summary, "since": since, "group": group,
                      "complexity": complexity, "arguments": later_args(later_dir, name)}
    print("// Generated by host/gen_command_docs.py from redis-server 7.0's COMMAND DOCS (and")
    print("// the script's rows for later Redis versions). Do not edit: run the script again.")
    print("// FERRITE_DOC(fullname, summary, since, group, complexity, doc flags,")
    print("//             deprecated since, replaced by)")
    print("// FERRITE_DOC_HISTORY(fullname, version, what changed)")
    print("// FERRITE_DOC_ARG(fullname, depth, name, type, key spec index or -1, token, summary,")
    print("//                 since, deprecated since, flags): arguments in order, each")
    print("//                 followed by its own (depth + 1) when a oneof or a block")
    print("// FERRITE_DOC_TIP(fullname, tip)")
    print("// FERRITE_DOC_KEY_NOTE(fullname, key spec index, notes)")
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
    for name in sorted(rows):
        for row in arg_rows(name, rows[name]["arguments"]):
            print(row)
    for name in sorted(tips_notes):
        tips, notes = tips_notes[name]
        for tip in tips:
            print("FERRITE_DOC_TIP(%s, %s)" % (c_str(name), c_str(tip)))
        for index, text in sorted(notes.items()):
            print("FERRITE_DOC_KEY_NOTE(%s, %d, %s)" % (c_str(name), index, c_str(text)))


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2])
