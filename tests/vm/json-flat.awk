# json-flat.awk - print every scalar of one JSON document as PATH=VALUE.
#
# PATH joins object keys and array indexes with '.', so
#   {"nodes":[{"id":0,"cpus":"0-1"}],"distances":[[10,16]]}
# prints
#   nodes.0.id=0
#   nodes.0.cpus=0-1
#   distances.0.0=10
#   distances.0.1=16
# Strings lose their quotes (escapes other than \uXXXX are decoded); numbers,
# true, false and null are printed as written. The VM tests use it to check
# `numaplace ... --json` output without jq, independent of key order and
# white space. A malformed document prints a message and exits 1.
# Works with mawk and gawk (recursive functions, locals as extra parameters).
BEGIN { RS = "\001" }

function ws() {
    while (pos <= len && index(" \t\r\n", substr(doc, pos, 1)) > 0)
        pos++
}

function fail(msg) {
    printf "json-flat: %s at byte %d\n", msg, pos > "/dev/stderr"
    failed = 1
    exit 1
}

function jstring(    c, out) {
    pos++ # the opening quote
    out = ""
    while (pos <= len) {
        c = substr(doc, pos, 1)
        if (c == "\"") {
            pos++
            return out
        }
        if (c == "\\") {
            pos++
            c = substr(doc, pos, 1)
            if (c == "n") c = "\n"
            else if (c == "t") c = "\t"
            else if (c == "r") c = "\r"
            else if (c == "b") c = "\b"
            else if (c == "f") c = "\f"
            else if (c == "u") {
                c = "\\u" substr(doc, pos + 1, 4)
                pos += 4
            }
        }
        out = out c
        pos++
    }
    fail("unterminated string")
}

function join(path, key) { return path == "" ? key : path "." key }

function value(path,    c, key, idx, start) {
    ws()
    c = substr(doc, pos, 1)
    if (c == "{") {
        pos++
        ws()
        if (substr(doc, pos, 1) == "}") { pos++; return }
        while (1) {
            ws()
            if (substr(doc, pos, 1) != "\"") fail("expected a key")
            key = jstring()
            ws()
            if (substr(doc, pos, 1) != ":") fail("expected ':'")
            pos++
            value(join(path, key))
            ws()
            c = substr(doc, pos, 1)
            pos++
            if (c == "}") return
            if (c != ",") fail("expected ',' or '}'")
        }
    }
    if (c == "[") {
        pos++
        ws()
        if (substr(doc, pos, 1) == "]") { pos++; return }
        for (idx = 0; ; idx++) {
            value(join(path, idx))
            ws()
            c = substr(doc, pos, 1)
            pos++
            if (c == "]") return
            if (c != ",") fail("expected ',' or ']'")
        }
    }
    if (c == "\"") {
        print path "=" jstring()
        return
    }
    start = pos
    while (pos <= len && index(",]} \t\r\n", substr(doc, pos, 1)) == 0)
        pos++
    c = substr(doc, start, pos - start)
    if (c !~ /^(-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?|true|false|null)$/)
        fail("expected a value")
    print path "=" c
}

{
    doc = $0
    len = length(doc)
    pos = 1
    ws()
    if (pos > len) fail("empty document")
    value("")
    ws()
    if (pos <= len) fail("text after the document")
}

END {
    if (failed) exit 1
    if (NR == 0) fail("empty document")
}
