/*
 * ctl/ctl_proto.c - the control protocol between numaplaced and the
 * numaplace command: one JSON object per line (see numaplace/ctl.h).
 *
 * The parser is the daemon's first contact with anything a local user
 * writes to its socket, so it assumes nothing: the line must be one JSON
 * object no longer than NP_CTL_REQUEST_MAX, "cmd" must be a known string,
 * "guest" (when the command takes one) a non-empty string shorter than
 * NP_CTL_GUEST_MAX without control characters, and no other key may appear.
 */
#include <numaplace/ctl.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/error.h"

#define CTL_ORIGIN "<socket>"

static const char *const cmd_names[] = {
    [NP_CTL_PING] = "ping",       [NP_CTL_STATUS] = "status",   [NP_CTL_PLAN] = "plan",
    [NP_CTL_EXCLUDE] = "exclude", [NP_CTL_INCLUDE] = "include", [NP_CTL_RELOAD] = "reload",
};
#define NR_CMDS (sizeof(cmd_names) / sizeof(cmd_names[0]))

const char *np_ctl_cmd_name(np_ctl_cmd cmd)
{
    return (size_t)cmd < NR_CMDS ? cmd_names[cmd] : "?";
}

bool np_ctl_cmd_mutates(np_ctl_cmd cmd)
{
    return cmd == NP_CTL_EXCLUDE || cmd == NP_CTL_INCLUDE || cmd == NP_CTL_RELOAD;
}

static bool cmd_takes_guest(np_ctl_cmd cmd)
{
    return cmd == NP_CTL_PLAN || cmd == NP_CTL_EXCLUDE || cmd == NP_CTL_INCLUDE;
}

static int guest_name_check(const char *s, size_t len, np_error *err)
{
    if (len == 0 || len >= NP_CTL_GUEST_MAX)
        return np_error_set(err, CTL_ORIGIN, 1, "\"guest\" must be 1 to %u bytes",
                            NP_CTL_GUEST_MAX - 1);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return np_error_set(err, CTL_ORIGIN, 1,
                                "\"guest\" must not hold control characters");
    return 0;
}

int np_ctl_request_parse(const char *text, size_t len, np_ctl_request *out, np_error *err)
{
    json_t *root = NULL;
    json_error_t jerr;
    np_ctl_request req;
    const char *key;
    json_t *val;
    int rc;

    if (!text || !out)
        return -EINVAL;
    if (len && text[len - 1] == '\n')
        len--;
    if (len + 1 > NP_CTL_REQUEST_MAX) {
        rc = np_error_set(err, CTL_ORIGIN, 1, "a request of at most %u bytes",
                          NP_CTL_REQUEST_MAX - 1);
        goto out;
    }
    if (memchr(text, '\n', len)) {
        rc = np_error_set(err, CTL_ORIGIN, 1, "one request per line");
        goto out;
    }
    memset(&req, 0, sizeof(req));
    /* JSON_REJECT_DUPLICATES: {"cmd":"ping","cmd":"reload"} is not a ping. */
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        rc = np_error_set(err, CTL_ORIGIN, 1, "a JSON object (%s at column %d)", jerr.text,
                          jerr.column);
        goto out;
    }
    if (!json_is_object(root)) {
        rc = np_error_set(err, CTL_ORIGIN, 1, "a JSON object, not another value");
        goto out;
    }
    json_t *jcmd = json_object_get(root, "cmd");
    if (!json_is_string(jcmd)) {
        rc = np_error_set(err, CTL_ORIGIN, 1, "a string member \"cmd\"");
        goto out;
    }
    size_t i;
    for (i = 0; i < NR_CMDS; i++)
        if (strcmp(json_string_value(jcmd), cmd_names[i]) == 0 &&
            json_string_length(jcmd) == strlen(cmd_names[i]))
            break;
    if (i == NR_CMDS) {
        rc = np_error_set(err, CTL_ORIGIN, 1,
                          "\"cmd\" one of ping, status, plan, exclude, include, reload");
        goto out;
    }
    req.cmd = (np_ctl_cmd)i;
    json_object_foreach(root, key, val) {
        if (strcmp(key, "cmd") == 0)
            continue;
        if (strcmp(key, "guest") == 0 && cmd_takes_guest(req.cmd))
            continue;
        rc = np_error_set(err, CTL_ORIGIN, 1, "no member \"%.64s\" in a %s request", key,
                          cmd_names[req.cmd]);
        goto out;
    }
    if (cmd_takes_guest(req.cmd)) {
        json_t *jg = json_object_get(root, "guest");
        if (!json_is_string(jg)) {
            rc = np_error_set(err, CTL_ORIGIN, 1, "a string member \"guest\" in a %s request",
                              cmd_names[req.cmd]);
            goto out;
        }
        size_t glen = json_string_length(jg);
        const char *g = json_string_value(jg);
        rc = guest_name_check(g, glen, err);
        if (rc)
            goto out;
        if (memchr(g, '\0', glen)) {
            rc = np_error_set(err, CTL_ORIGIN, 1, "\"guest\" must not hold NUL");
            goto out;
        }
        memcpy(req.guest, g, glen);
        req.guest[glen] = '\0';
    }
    *out = req;
    rc = 0;
out:
    json_decref(root);
    return rc;
}

static int dump_line(json_t *obj, char **line_out)
{
    char *s = NULL, *line = NULL;
    int rc = -ENOMEM;

    if (!obj)
        goto out;
    s = json_dumps(obj, JSON_COMPACT);
    if (!s)
        goto out;
    size_t n = strlen(s);
    line = malloc(n + 2);
    if (!line)
        goto out;
    memcpy(line, s, n);
    line[n] = '\n';
    line[n + 1] = '\0';
    *line_out = line;
    line = NULL;
    rc = 0;
out:
    free(s);
    free(line);
    json_decref(obj);
    return rc;
}

int np_ctl_request_format(const np_ctl_request *req, char **line_out)
{
    if (!req || !line_out || (size_t)req->cmd >= NR_CMDS)
        return -EINVAL;
    json_t *obj = json_object();
    if (obj && json_object_set_new(obj, "cmd", json_string(cmd_names[req->cmd]))) {
        json_decref(obj);
        return -ENOMEM;
    }
    if (obj && cmd_takes_guest(req->cmd)) {
        size_t glen = strnlen(req->guest, sizeof(req->guest));
        if (guest_name_check(req->guest, glen == sizeof(req->guest) ? 0 : glen, NULL)) {
            json_decref(obj);
            return -EINVAL;
        }
        if (json_object_set_new(obj, "guest", json_string(req->guest))) {
            json_decref(obj);
            return -ENOMEM;
        }
    }
    return dump_line(obj, line_out);
}

int np_ctl_error_reply(const char *msg, char **line_out)
{
    if (!msg || !line_out)
        return -EINVAL;
    json_t *obj = json_pack("{s:b, s:s}", "ok", 0, "error", msg);
    return dump_line(obj, line_out);
}
