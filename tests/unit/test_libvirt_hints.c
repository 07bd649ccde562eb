/*
 * test_libvirt_hints.c - numaplace's element in a domain's <metadata>
 * (np_libvirt_hints_parse): group and IO hints read from a whole domain and
 * from the element alone (virDomainGetMetadata's form), applied to a spec,
 * kept by np_libvirt_tune_domain, refusals naming their line; and the node
 * of a device from libvirt's node device XML.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/guest.h>
#include <numaplace/hoststate.h>
#include <numaplace/libvirt.h>
#include <numaplace/place.h>

#include "np_test.h"
#include "np_test_error.h"

#define NS "https://numaplace.dev/xmlns/libvirt/1"

static const char domain_xml[] =
    "<domain type='kvm'>\n"
    "  <name>db1</name>\n"
    "  <memory unit='MiB'>512</memory>\n"
    "  <vcpu>2</vcpu>\n"
    "  <metadata>\n"
    "    <other:thing xmlns:other='https://example.org/x' a='1'/>\n"
    "    <numaplace:placement xmlns:numaplace='" NS "' group='db:spread:80' io-node='1'/>\n"
    "  </metadata>\n"
    "  <os><type arch='x86_64'>hvm</type></os>\n"
    "</domain>\n";

static void test_domain(void)
{
    np_libvirt_hints h;
    np_error err = {0};
    ASSERT_EQ(np_libvirt_hints_parse(domain_xml, strlen(domain_xml), "db1.xml", &h, &err), 0);
    ASSERT_TRUE(h.found);
    ASSERT_STR_EQ(h.group, "db");
    ASSERT_EQ(h.group_rule, NP_GROUP_SPREAD);
    ASSERT_EQ(h.group_weight, 80);
    ASSERT_EQ(h.io_node_os_id, 1);
    ASSERT_STR_EQ(h.io_device, "");

    np_guest_spec spec;
    np_guest_spec_init(&spec);
    np_libvirt_hints_apply(&h, &spec);
    ASSERT_STR_EQ(spec.group, "db");
    ASSERT_EQ(spec.group_rule, NP_GROUP_SPREAD);
    ASSERT_EQ(spec.group_weight, 80);
    ASSERT_EQ(spec.io_node_os_id, 1);
}

/* What virDomainGetMetadata(VIR_DOMAIN_METADATA_ELEMENT) returns: the
 * element alone, with create's record beside the hints. */
static void test_element(void)
{
    const char *el = "<numaplace:placement xmlns:numaplace='" NS "' group='web:colocate' "
                     "io-device='3:00.0' nodes='0-1' policy='numaplace'/>";
    np_libvirt_hints h;
    np_error err = {0};
    ASSERT_EQ(np_libvirt_hints_parse(el, strlen(el), "md", &h, &err), 0);
    ASSERT_TRUE(h.found);
    ASSERT_STR_EQ(h.group, "web");
    ASSERT_EQ(h.group_rule, NP_GROUP_COLOCATE);
    ASSERT_EQ(h.group_weight, NP_GROUP_WEIGHT_DEFAULT);
    ASSERT_EQ(h.io_node_os_id, -1);
    ASSERT_STR_EQ(h.io_device, "0000:03:00.0");
    ASSERT_STR_EQ(h.nodes, "0-1");
    ASSERT_STR_EQ(h.policy, "numaplace");

    np_guest_spec spec;
    np_guest_spec_init(&spec);
    np_libvirt_hints_apply(&h, &spec);
    ASSERT_EQ(spec.io_node_os_id, -1); /* a device's node is the caller's to resolve */
    /* libvirt's virDomainGetMetadata returns it without its namespace */
    const char *bare = "<placement group=\"db:colocate:7\" io-node=\"3\"/>";
    ASSERT_EQ(np_libvirt_hints_parse(bare, strlen(bare), "md", &h, &err), 0);
    ASSERT_TRUE(h.found);
    ASSERT_STR_EQ(h.group, "db");
    ASSERT_EQ(h.group_weight, 7);
    ASSERT_EQ(h.io_node_os_id, 3);
}

static void test_no_hints(void)
{
    const char *xml = "<domain><name>x</name><metadata><a:b xmlns:a='urn:a'/></metadata></domain>";
    np_libvirt_hints h;
    np_error err = {0};
    ASSERT_EQ(np_libvirt_hints_parse(xml, strlen(xml), "x", &h, &err), 0);
    ASSERT_TRUE(!h.found);
    ASSERT_STR_EQ(h.group, "");
    ASSERT_EQ(h.io_node_os_id, -1);
    np_guest_spec spec;
    np_guest_spec_init(&spec);
    np_libvirt_hints_apply(&h, &spec);
    ASSERT_STR_EQ(spec.group, "");
    ASSERT_EQ(spec.group_rule, NP_GROUP_NONE);
}

/* create --libvirt keeps the hints and adds its record to the same element. */
static void test_tune_keeps_hints(void)
{
    np_topology *topo = NULL;
    np_host_state *st = NULL;
    np_placement *pl = NULL;
    np_guest_spec spec;
    np_error err = {0};
    char *out = NULL;
    np_libvirt_hints h;

    ASSERT_EQ(np_topology_open("builtin:small-2n", NP_TOPO_FMT_AUTO, &topo, &err), 0);
    ASSERT_EQ(np_host_state_create(topo, &st), 0);
    np_guest_spec_init(&spec);
    strcpy(spec.name, "db1");
    spec.vcpus = 2;
    spec.mem_bytes = spec.maxmem_bytes = UINT64_C(512) << 20;
    ASSERT_EQ(np_place(st, &spec, NULL, &pl, &err), 0);
    ASSERT_EQ(np_libvirt_tune_domain(domain_xml, strlen(domain_xml), "db1.xml", topo, &spec, pl,
                                     &out, &err),
              0);
    ASSERT_EQ(np_libvirt_hints_parse(out, strlen(out), "tuned", &h, &err), 0);
    ASSERT_STR_EQ(h.group, "db");
    ASSERT_EQ(h.io_node_os_id, 1);
    ASSERT_TRUE(h.nodes[0] != '\0');
    ASSERT_TRUE(strstr(out, "https://example.org/x") != NULL); /* the other element stays */
    /* one numaplace element only: libvirt keeps one per namespace */
    const char *first = strstr(out, "<numaplace:placement");
    ASSERT_TRUE(first && !strstr(first + 1, "<numaplace:placement"));
    free(out);
    np_placement_destroy(pl);
    np_host_state_destroy(st);
    np_topology_destroy(topo);
}

static void test_refusals(void)
{
    static const struct {
        const char *xml;
        unsigned line;
        const char *msg;
    } bad[] = {
        {"<domain>\n<metadata>\n<n:placement xmlns:n='" NS "' group='db'/></metadata></domain>", 3,
         "expected NAME:colocate or NAME:spread"},
        {"<domain>\n<metadata>\n<n:placement xmlns:n='" NS "' group='db:spread:0'/>"
         "</metadata></domain>",
         3, "expected NAME:colocate"},
        {"<domain>\n<metadata>\n\n<n:placement xmlns:n='" NS "' io-node='x'/></metadata></domain>",
         4, "expected a node number"},
        {"<n:placement xmlns:n='" NS "' io-node='1024'/>", 1, "expected a node number"},
        {"<n:placement xmlns:n='" NS "' io-device='zz:1'/>", 1, "expected a PCI address"},
        {"<n:placement xmlns:n='" NS "' nodes='0-'/>", 1, "expected a node list"},
        {"<n:placement xmlns:n='" NS "'\n grup='db:spread'/>", 2, "unknown attribute 'grup'"},
        {"<domain><metadata>\n<n:hints xmlns:n='" NS "'/></metadata></domain>", 2,
         "numaplace's metadata element is <placement>"},
        {"<capabilities/>", 1, "expected a <domain>"},
        {"<domain><name>x</name>\n<metadata>", 2, "expected a libvirt <domain> document"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        np_libvirt_hints h;
        np_error err = {0};
        int rc = np_libvirt_hints_parse(bad[i].xml, strlen(bad[i].xml), "md", &h, &err);
        np_test_expect_error(rc, &err, "md", bad[i].line, bad[i].msg);
    }
}

static void test_nodedev(void)
{
    const char *dev = "<device>\n  <name>pci_0000_03_00_0</name>\n"
                      "  <capability type='pci'>\n    <domain>0</domain><bus>3</bus>\n"
                      "    <numa node='1'/>\n  </capability>\n</device>\n";
    const char *none = "<device><name>pci_0000_00_01_0</name><capability type='pci'>"
                       "<bus>0</bus></capability></device>";
    int32_t node = -1;
    np_error err = {0};
    ASSERT_EQ(np_libvirt_nodedev_numa_node(dev, strlen(dev), "dev", &node, &err), 0);
    ASSERT_EQ(node, 1);
    ASSERT_EQ(np_libvirt_nodedev_numa_node(none, strlen(none), "dev", &node, &err), -ENOENT);
    ASSERT_CONTAINS(err.msg, "names no NUMA node");
    const char *badnode = "<device>\n<capability type='pci'>\n<numa node='-1'/></capability></device>";
    memset(&err, 0, sizeof(err));
    np_test_expect_error(np_libvirt_nodedev_numa_node(badnode, strlen(badnode), "dev", &node, &err),
                         &err, "dev", 3, "expected 0 to 1023");
}

int main(void)
{
    NP_RUN(test_domain);
    NP_RUN(test_element);
    NP_RUN(test_no_hints);
    NP_RUN(test_tune_keeps_hints);
    NP_RUN(test_refusals);
    NP_RUN(test_nodedev);
    return np_test_summary();
}
