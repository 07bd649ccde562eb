/*
 * test_spec_json.c - guest specs as JSON objects: types per key, lines in
 * messages, and agreement with the option string.
 */
#include <errno.h>
#include <string.h>

#include <numaplace/guest.h>

#include "np_test.h"

#define GIB (UINT64_C(1) << 30)

static int parse(const char *text, np_guest_spec *s, np_error *e)
{
    memset(e, 0, sizeof(*e));
    return np_guest_spec_parse_json(text, strlen(text), "g.json", s, e);
}

static void test_same_as_option(void)
{
    np_guest_spec a, b;
    np_error e;
    ASSERT_EQ(parse("{\"name\": \"web\", \"vcpus\": 4, \"memory\": \"8G\", \"maxmem\": \"12G\","
                    " \"dev\": [\"0000:03:00.0\", \"04:00.1\"], \"io-node\": 1,"
                    " \"group\": \"db:colocate:80\", \"vnuma\": 2, \"affinity\": \"hard\","
                    " \"autoplace\": false, \"cpuless-memory\": true, \"demand\": 0.5}",
                    &a, &e),
              0);
    ASSERT_EQ(np_guest_spec_parse_option("name=web,vcpus=4,memory=8G,maxmem=12G,"
                                         "dev=0000:03:00.0,dev=04:00.1,io-node=1,"
                                         "group=db:colocate:80,vnuma=2,affinity=hard,"
                                         "autoplace=no,cpuless-memory=yes,demand=0.5",
                                         "--vm", &b, &e),
              0);
    ASSERT_U64_EQ(a.mem_bytes, b.mem_bytes);
    ASSERT_STR_EQ(a.name, b.name);
    ASSERT_EQ(a.vcpus, b.vcpus);
    ASSERT_U64_EQ(a.maxmem_bytes, b.maxmem_bytes);
    ASSERT_EQ(a.nr_devices, b.nr_devices);
    ASSERT_STR_EQ(a.devices[1], b.devices[1]);
    ASSERT_EQ(a.io_node_os_id, b.io_node_os_id);
    ASSERT_STR_EQ(a.group, b.group);
    ASSERT_EQ(a.group_rule, b.group_rule);
    ASSERT_EQ(a.group_weight, b.group_weight);
    ASSERT_EQ(a.vnuma_nodes, b.vnuma_nodes);
    ASSERT_EQ(a.affinity, b.affinity);
    ASSERT_EQ(a.no_autoplace, b.no_autoplace);
    ASSERT_EQ(a.allow_cpuless_memory, b.allow_cpuless_memory);
    ASSERT_TRUE(a.cpu_demand == b.cpu_demand);
}

static void test_alternative_forms(void)
{
    np_guest_spec s;
    np_error e;
    ASSERT_EQ(parse("{\"name\": \"x\", \"dev\": \"03:00.0\", \"io-node\": null, "
                    "\"vnuma\": \"off\", \"demand\": 1}",
                    &s, &e),
              0);
    ASSERT_EQ(s.nr_devices, 1);
    ASSERT_EQ(s.io_node_os_id, -1);
    ASSERT_EQ(s.vnuma_nodes, NP_VNUMA_OFF);
    ASSERT_TRUE(s.cpu_demand == 1.0);
    ASSERT_EQ(parse("{\"memory\": \"2G\"}", &s, &e), 0);
    ASSERT_U64_EQ(s.maxmem_bytes, 2 * GIB);
    ASSERT_EQ(parse("{}", &s, &e), 0); /* validate, not the reader, wants vCPUs */
    ASSERT_EQ(s.vcpus, 0);
}

static void test_errors_with_lines(void)
{
    static const struct {
        const char *text;
        unsigned line;
        const char *msg;
    } cases[] = {
        {"{\n\"name\": \"web\",\n\"vcpus\": 4.5\n}", 3, "vcpus: expected an integer vCPU count, got a real"},
        {"{\n\"vcpus\": -2\n}", 2, "vcpus: expected a vCPU count from 0 to 4096"},
        {"{\n\"name\": \"web\",\n\n\"memory\": 8192\n}", 4, "memory: expected a size string"},
        {"{\"name\": \"web\",\n \"dev\": [\"03:00.0\", 7]}", 2, "dev: expected PCI address strings"},
        {"{\"autoplace\": \"no\"}", 1, "autoplace: expected true or false, got a string"},
        {"{\"demand\": 2}", 1, "demand: expected a CPU demand between 0 and 1"},
        {"{\n\"io-node\": -3}", 2, "io-node: expected a node number from 0 to 1023, or null"},
        {"{\n\n\"flavour\": \"large\"}", 3, "flavour: unknown key; expected one of name, vcpus"},
        {"[1, 2]", 1, "expected a guest spec object, got an array"},
        {"{\"name\": \"web\"", 1, "invalid JSON"},
        {"\"web\"", 1, "invalid JSON"},
        {"{\"name\": \"w\\u00e9b\"}", 1, "name: expected a name of 1 to 63"},
        {"{\"vnuma\": true}", 1, "vnuma: expected \"auto\", \"off\" or a node count, got a boolean"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        np_guest_spec s;
        np_error e;
        ASSERT_EQ(parse(cases[i].text, &s, &e), -EINVAL);
        ASSERT_STR_EQ(e.origin, "g.json");
        if (e.line != cases[i].line)
            fprintf(stderr, "  case %zu: line %u: %s\n", i, e.line, e.msg);
        ASSERT_EQ(e.line, cases[i].line);
        ASSERT_CONTAINS(e.msg, cases[i].msg);
    }
}

static void test_not_nul_terminated(void)
{
    /* The text is a byte range: what follows it must not be read. */
    const char text[] = "{\"name\": \"web\"}garbage";
    np_guest_spec s;
    np_error e = {0};
    ASSERT_EQ(np_guest_spec_parse_json(text, 15, "g.json", &s, &e), 0);
    ASSERT_STR_EQ(s.name, "web");
}

int main(void)
{
    NP_RUN(test_same_as_option);
    NP_RUN(test_alternative_forms);
    NP_RUN(test_errors_with_lines);
    NP_RUN(test_not_nul_terminated);
    return np_test_summary();
}
