/*
 * test_spec_option.c - the guest spec option string ("name=web,vcpus=4,...")
 * and the value rules it shares with the JSON reader.
 */
#include <errno.h>
#include <string.h>

#include <numaplace/guest.h>

#include "np_test.h"

#define GIB (UINT64_C(1) << 30)

static int parse(const char *text, np_guest_spec *s, np_error *e)
{
    memset(e, 0, sizeof(*e));
    return np_guest_spec_parse_option(text, "--vm", s, e);
}

static void test_every_key(void)
{
    np_guest_spec s;
    np_error e;
    ASSERT_EQ(parse("name=web,vcpus=4,memory=8G,maxmem=12G,dev=0000:03:00.0,dev=04:00.1,"
                    "io-node=1,group=db:colocate:80,vnuma=2,affinity=hard,autoplace=no,"
                    "cpuless-memory=yes,demand=0.5",
                    &s, &e),
              0);
    ASSERT_STR_EQ(s.name, "web");
    ASSERT_EQ(s.vcpus, 4);
    ASSERT_U64_EQ(s.mem_bytes, 8 * GIB);
    ASSERT_U64_EQ(s.maxmem_bytes, 12 * GIB);
    ASSERT_EQ(s.nr_devices, 2);
    ASSERT_STR_EQ(s.devices[0], "0000:03:00.0");
    ASSERT_STR_EQ(s.devices[1], "0000:04:00.1"); /* short form normalised */
    ASSERT_EQ(s.io_node_os_id, 1);
    ASSERT_STR_EQ(s.group, "db");
    ASSERT_EQ(s.group_rule, NP_GROUP_COLOCATE);
    ASSERT_EQ(s.group_weight, 80);
    ASSERT_EQ(s.vnuma_nodes, 2);
    ASSERT_EQ(s.affinity, NP_AFFINITY_HARD);
    ASSERT_TRUE(s.no_autoplace);
    ASSERT_TRUE(s.allow_cpuless_memory);
    ASSERT_TRUE(!s.cpuless_memory_refused);
    ASSERT_TRUE(s.cpu_demand == 0.5);
    /* unset: neither (placement: an ordinary tier); no: refused */
    ASSERT_EQ(np_guest_spec_parse_option("name=a,vcpus=1,memory=1G", "--vm", &s, &e), 0);
    ASSERT_TRUE(!s.allow_cpuless_memory && !s.cpuless_memory_refused);
    ASSERT_EQ(np_guest_spec_parse_option("name=a,vcpus=1,memory=1G,cpuless-memory=no", "--vm",
                                         &s, &e),
              0);
    ASSERT_TRUE(!s.allow_cpuless_memory && s.cpuless_memory_refused);
}

static void test_defaults_and_maxmem_follows_memory(void)
{
    np_guest_spec s;
    np_error e;
    ASSERT_EQ(parse(" name = db , vcpus=2, memory=1.5GiB ", &s, &e), 0);
    ASSERT_STR_EQ(s.name, "db");
    ASSERT_U64_EQ(s.mem_bytes, 3 * GIB / 2);
    ASSERT_U64_EQ(s.maxmem_bytes, s.mem_bytes);
    ASSERT_EQ(s.affinity, NP_AFFINITY_SOFT);
    ASSERT_EQ(s.vnuma_nodes, NP_VNUMA_AUTO);
    ASSERT_EQ(s.io_node_os_id, -1);
    ASSERT_EQ(s.group_rule, NP_GROUP_NONE);
    ASSERT_TRUE(!s.no_autoplace);
    ASSERT_TRUE(s.cpu_demand == 1.0);
}

static void test_words(void)
{
    np_guest_spec s;
    np_error e;
    ASSERT_EQ(parse("vnuma=off,affinity=none,group=r:spread,io-node=none", &s, &e), 0);
    ASSERT_EQ(s.vnuma_nodes, NP_VNUMA_OFF);
    ASSERT_EQ(s.affinity, NP_AFFINITY_NONE);
    ASSERT_EQ(s.group_rule, NP_GROUP_SPREAD);
    ASSERT_EQ(s.group_weight, NP_GROUP_WEIGHT_DEFAULT);
    ASSERT_EQ(s.io_node_os_id, -1);
    ASSERT_EQ(parse("vnuma=auto,demand=.25,autoplace=yes", &s, &e), 0);
    ASSERT_EQ(s.vnuma_nodes, NP_VNUMA_AUTO);
    ASSERT_TRUE(s.cpu_demand == 0.25);
    ASSERT_TRUE(!s.no_autoplace);
}

/* Bad values: -EINVAL, origin, and the item and what was expected. */
static void test_errors(void)
{
    static const struct {
        const char *text;
        const char *msg;
    } cases[] = {
        {"", "expected a guest spec such as"},
        {"name=web,,vcpus=2", "item 2 is empty"},
        {"name=web,vcpus", "item 2 \"vcpus\": expected KEY=VALUE"},
        {"colour=red", "unknown key \"colour\""},
        {"vcpus=2,vcpus=3", "vcpus given twice"},
        {"vcpus=two", "expected a whole number of vCPUs"},
        {"vcpus=-1", "expected a whole number of vCPUs"},
        {"vcpus=5000", "at most 4096"},
        {"memory=8", "expected a size with a unit"},
        {"memory=8Q", "expected a size with a unit"},
        {"memory=99999999999T", "below 16 EiB"},
        {"dev=03:00", "expected a PCI address"},
        {"dev=0000:03:20.0", "expected a PCI address"},
        {"dev=03:00.0,dev=0000:03:00.0", "repeated"},
        {"io-node=1024", "from 0 to 1023"},
        {"group=db", "expected NAME:colocate or NAME:spread"},
        {"group=db:colocate:0", "expected NAME:colocate"},
        {"group=db:colocate:101", "expected NAME:colocate"},
        {"group=:spread", "expected NAME:colocate"},
        {"vnuma=some", "expected auto, off or a vNUMA node count"},
        {"vnuma=2000", "from 1 to 1024"},
        {"affinity=pinned", "expected soft, hard or none"},
        {"autoplace=maybe", "expected yes or no"},
        {"demand=1.5", "between 0 and 1"},
        {"demand=-0.1", "between 0 and 1"},
        {"demand=1e-3", "between 0 and 1"},
        {"name=a b", "expected a name of 1 to 63"},
        {"name=0123456789012345678901234567890123456789012345678901234567890123",
         "expected a name of 1 to 63"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        np_guest_spec s;
        np_error e;
        memset(&s, 0x5a, sizeof(s));
        ASSERT_EQ(parse(cases[i].text, &s, &e), -EINVAL);
        ASSERT_STR_EQ(e.origin, "--vm");
        ASSERT_CONTAINS(e.msg, cases[i].msg);
        ASSERT_EQ((unsigned char)s.name[0], 0x5a); /* no partial result */
    }
}

static void test_device_limit(void)
{
    char text[1024];
    size_t pos = (size_t)snprintf(text, sizeof(text), "name=many");
    np_guest_spec s;
    np_error e;
    for (int i = 0; i < NP_GUEST_MAX_DEVICES; i++)
        pos += (size_t)snprintf(text + pos, sizeof(text) - pos, ",dev=%02x:00.0", i + 1);
    ASSERT_EQ(parse(text, &s, &e), 0);
    ASSERT_EQ(s.nr_devices, NP_GUEST_MAX_DEVICES);
    snprintf(text + pos, sizeof(text) - pos, ",dev=7f:00.0");
    ASSERT_EQ(parse(text, &s, &e), -EINVAL);
    ASSERT_CONTAINS(e.msg, "at most 16");
}

int main(void)
{
    NP_RUN(test_every_key);
    NP_RUN(test_defaults_and_maxmem_follows_memory);
    NP_RUN(test_words);
    NP_RUN(test_errors);
    NP_RUN(test_device_limit);
    return np_test_summary();
}
