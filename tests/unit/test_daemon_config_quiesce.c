/*
 * test_daemon_config_quiesce.c - the daemon configuration key
 * move_quiesce = auto|never|always (default auto; anything else is an
 * error naming file, line and the values expected).
 */
#include <errno.h>
#include <string.h>

#include <numaplace/ctl.h>

#include "np_test.h"

static int cfg_parse(const char *s, np_daemon_config *c, np_error *e)
{
    memset(e, 0, sizeof(*e));
    return np_daemon_config_parse(s, strlen(s), "q.conf", c, e);
}

static void test_move_quiesce(void)
{
    np_daemon_config c;
    np_error e;
    np_daemon_config_init(&c);
    ASSERT_EQ(c.move_quiesce, NP_DAEMON_QUIESCE_AUTO);
    ASSERT_EQ(cfg_parse("move_quiesce = never\n", &c, &e), 0);
    ASSERT_EQ(c.move_quiesce, NP_DAEMON_QUIESCE_NEVER);
    ASSERT_EQ(cfg_parse("move_quiesce = always  # stop for every step\n", &c, &e), 0);
    ASSERT_EQ(c.move_quiesce, NP_DAEMON_QUIESCE_ALWAYS);
    ASSERT_EQ(cfg_parse("move_quiesce = auto\n", &c, &e), 0);
    ASSERT_EQ(c.move_quiesce, NP_DAEMON_QUIESCE_AUTO);
    ASSERT_EQ(cfg_parse("period = 2s\nmove_quiesce = sometimes\n", &c, &e), -EINVAL);
    ASSERT_EQ(e.line, 2);
    ASSERT_STR_EQ(e.origin, "q.conf");
    ASSERT_CONTAINS(e.msg, "auto, never or always");
    ASSERT_EQ(c.move_quiesce, NP_DAEMON_QUIESCE_AUTO); /* unchanged by the failed parse */
}

int main(void)
{
    NP_RUN(test_move_quiesce);
    return np_test_summary();
}
