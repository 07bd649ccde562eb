/*
 * test_daemon_config_libvirt.c - the daemon configuration keys of issue 14:
 * metrics_listen (off by default, ADDRESS:PORT checked when read, the
 * error naming file and line), libvirt_uri (default qemu:///system) and
 * backend = libvirt (never what auto resolves to).
 */
#include <errno.h>
#include <string.h>

#include <numaplace/ctl.h>

#include "np_test.h"

static int cfg_parse(const char *s, np_daemon_config *c, np_error *e)
{
    memset(e, 0, sizeof(*e));
    return np_daemon_config_parse(s, strlen(s), "lv.conf", c, e);
}

static void test_defaults(void)
{
    np_daemon_config c;
    np_daemon_config_init(&c);
    ASSERT_STR_EQ(c.metrics_listen, "");
    ASSERT_STR_EQ(c.libvirt_uri, "qemu:///system");
}

static void test_metrics_listen(void)
{
    np_daemon_config c;
    np_error e;
    np_daemon_config_init(&c);
    ASSERT_EQ(cfg_parse("metrics_listen = 127.0.0.1:9464\n", &c, &e), 0);
    ASSERT_STR_EQ(c.metrics_listen, "127.0.0.1:9464");
    ASSERT_EQ(cfg_parse("metrics_listen = [::1]:9100  # v6\n", &c, &e), 0);
    ASSERT_STR_EQ(c.metrics_listen, "[::1]:9100");
    ASSERT_EQ(cfg_parse("period = 2s\nmetrics_listen = localhost:9464\n", &c, &e), -EINVAL);
    ASSERT_EQ(e.line, 2);
    ASSERT_STR_EQ(e.origin, "lv.conf");
    ASSERT_CONTAINS(e.msg, "ADDRESS:PORT");
    ASSERT_STR_EQ(c.metrics_listen, "[::1]:9100"); /* unchanged on error */
    ASSERT_EQ(cfg_parse("metrics_listen = 127.0.0.1:0\n", &c, &e), -EINVAL);
}

static void test_libvirt_keys(void)
{
    np_daemon_config c;
    np_error e;
    np_daemon_backend b;
    np_daemon_config_init(&c);
    ASSERT_EQ(cfg_parse("backend = libvirt\nlibvirt_uri = test:///default\n", &c, &e), 0);
    ASSERT_EQ(c.backend, NP_DAEMON_BACKEND_LIBVIRT);
    ASSERT_STR_EQ(c.libvirt_uri, "test:///default");
    ASSERT_EQ(cfg_parse("libvirt_uri = system\n", &c, &e), -EINVAL);
    ASSERT_CONTAINS(e.msg, "libvirt connection URI");
    ASSERT_EQ(np_daemon_backend_parse("libvirt", &b), 0);
    ASSERT_EQ(b, NP_DAEMON_BACKEND_LIBVIRT);
    ASSERT_STR_EQ(np_daemon_backend_name(NP_DAEMON_BACKEND_LIBVIRT), "libvirt");
    /* auto never picks libvirt: it is asked for */
    ASSERT_EQ(np_daemon_backend_resolve(NP_DAEMON_BACKEND_AUTO, false, false),
              NP_DAEMON_BACKEND_LINUX);
    ASSERT_EQ(np_daemon_backend_resolve(NP_DAEMON_BACKEND_LIBVIRT, true, true),
              NP_DAEMON_BACKEND_LIBVIRT);
}

int main(void)
{
    NP_RUN(test_defaults);
    NP_RUN(test_metrics_listen);
    NP_RUN(test_libvirt_keys);
    return np_test_summary();
}
