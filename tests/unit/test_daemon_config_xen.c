/*
 * test_daemon_config_xen.c - the daemon configuration keys that choose the
 * backend and the Xen backend's memory moves: backend = auto|linux|xen,
 * xen_memory_move = off|save-restore, xen_save_dir; their defaults; the
 * Linux-only keys (discover, cgroup, pid) refused next to backend = xen
 * with the Linux key's line; and how auto resolves.
 */
#include <errno.h>
#include <string.h>

#include <numaplace/ctl.h>

#include "np_test.h"

static int cfg_parse(const char *s, np_daemon_config *c, np_error *e)
{
    memset(e, 0, sizeof(*e));
    return np_daemon_config_parse(s, strlen(s), "xen.conf", c, e);
}

static void test_defaults(void)
{
    np_daemon_config c;
    np_daemon_config_init(&c);
    ASSERT_EQ(c.backend, NP_DAEMON_BACKEND_AUTO);
    ASSERT_EQ(c.xen_memory_move, NP_DAEMON_XEN_MOVE_OFF);
    ASSERT_STR_EQ(c.xen_save_dir, NP_DAEMON_XEN_SAVE_DIR);
    ASSERT_EQ(c.linux_keys_line, 0);
}

static void test_backend_keys(void)
{
    np_daemon_config c;
    np_error e;
    np_daemon_backend b;

    np_daemon_config_init(&c);
    ASSERT_EQ(cfg_parse("backend = xen\nxen_memory_move = save-restore\n"
                        "xen_save_dir = /srv/np-save\n",
                        &c, &e),
              0);
    ASSERT_EQ(c.backend, NP_DAEMON_BACKEND_XEN);
    ASSERT_EQ(c.xen_memory_move, NP_DAEMON_XEN_MOVE_SAVE_RESTORE);
    ASSERT_STR_EQ(c.xen_save_dir, "/srv/np-save");
    ASSERT_EQ(cfg_parse("xen_memory_move = off\nbackend = linux\n", &c, &e), 0);
    ASSERT_EQ(c.xen_memory_move, NP_DAEMON_XEN_MOVE_OFF);
    ASSERT_EQ(c.backend, NP_DAEMON_BACKEND_LINUX);
    ASSERT_EQ(cfg_parse("backend = auto\n", &c, &e), 0);
    ASSERT_EQ(c.backend, NP_DAEMON_BACKEND_AUTO);

    ASSERT_EQ(cfg_parse("\nbackend = kvm\n", &c, &e), -EINVAL);
    ASSERT_EQ(e.line, 2);
    ASSERT_CONTAINS(e.msg, "backend: auto, linux, xen or libvirt");
    ASSERT_EQ(cfg_parse("xen_memory_move = yes\n", &c, &e), -EINVAL);
    ASSERT_CONTAINS(e.msg, "off or save-restore");
    ASSERT_EQ(cfg_parse("xen_save_dir = relative/dir\n", &c, &e), -EINVAL);
    ASSERT_CONTAINS(e.msg, "an absolute path");

    ASSERT_EQ(np_daemon_backend_parse("xen", &b), 0);
    ASSERT_EQ(b, NP_DAEMON_BACKEND_XEN);
    ASSERT_EQ(np_daemon_backend_parse("Xen", &b), -EINVAL);
    ASSERT_STR_EQ(np_daemon_backend_name(NP_DAEMON_BACKEND_LINUX), "linux");
    ASSERT_STR_EQ(np_daemon_backend_name((np_daemon_backend)7), "?");
}

/* discover, cgroup and pid choose Linux processes: with backend = xen the
 * file is refused at the first such line, whichever comes first. */
static void test_linux_keys_with_xen(void)
{
    np_daemon_config c, before;
    np_error e;

    np_daemon_config_init(&c);
    before = c;
    ASSERT_EQ(cfg_parse("# host\nbackend = xen\nperiod = 2s\ndiscover = qemu\n", &c, &e), -EINVAL);
    ASSERT_EQ(e.line, 4);
    ASSERT_STR_EQ(e.origin, "xen.conf");
    ASSERT_CONTAINS(e.msg, "no discover, cgroup or pid with backend = xen");
    ASSERT_TRUE(memcmp(&c, &before, sizeof(c)) == 0);
    ASSERT_EQ(cfg_parse("pid = 12\nbackend = xen\n", &c, &e), -EINVAL);
    ASSERT_EQ(e.line, 1);
    ASSERT_EQ(cfg_parse("backend = xen\n\ncgroup = /machine.slice\n", &c, &e), -EINVAL);
    ASSERT_EQ(e.line, 3);

    /* With the Linux backend the same keys are fine and remembered. */
    ASSERT_EQ(cfg_parse("backend = linux\n\ndiscover = pids\npid = 7\n", &c, &e), 0);
    ASSERT_EQ(c.linux_keys_line, 3);
    ASSERT_EQ(c.nr_pids, 1);
    /* auto: the daemon decides once it knows the host (main.c). */
    np_daemon_config_init(&c);
    ASSERT_EQ(cfg_parse("cgroup = /machine.slice\n", &c, &e), 0);
    ASSERT_EQ(c.linux_keys_line, 1);
}

static void test_resolve(void)
{
    ASSERT_EQ(np_daemon_backend_resolve(NP_DAEMON_BACKEND_AUTO, true, true), NP_DAEMON_BACKEND_XEN);
    ASSERT_EQ(np_daemon_backend_resolve(NP_DAEMON_BACKEND_AUTO, true, false),
              NP_DAEMON_BACKEND_LINUX);
    ASSERT_EQ(np_daemon_backend_resolve(NP_DAEMON_BACKEND_AUTO, false, true),
              NP_DAEMON_BACKEND_LINUX);
    ASSERT_EQ(np_daemon_backend_resolve(NP_DAEMON_BACKEND_XEN, false, false),
              NP_DAEMON_BACKEND_XEN);
    ASSERT_EQ(np_daemon_backend_resolve(NP_DAEMON_BACKEND_LINUX, true, true),
              NP_DAEMON_BACKEND_LINUX);
}

int main(void)
{
    NP_RUN(test_defaults);
    NP_RUN(test_backend_keys);
    NP_RUN(test_linux_keys_with_xen);
    NP_RUN(test_resolve);
    return np_test_summary();
}
