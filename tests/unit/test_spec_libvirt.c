/*
 * test_spec_libvirt.c - libvirt domain XML through libxml2: elements taken,
 * memory units, PCI addresses, manual placement, and error lines.
 */
#include <errno.h>
#include <string.h>

#include <numaplace/guest.h>

#include "np_test.h"

#define KIB UINT64_C(1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)

static int rd(const char *text, np_guest_spec *s, np_error *e)
{
    memset(e, 0, sizeof(*e));
    return np_guest_spec_read_libvirt_xml(text, strlen(text), "dom.xml", s, e);
}

static void test_units(void)
{
    static const struct {
        const char *unit;
        uint64_t bytes_per;
    } cases[] = {
        {"", KIB},          {"unit='b'", 1},          {"unit='bytes'", 1},
        {"unit='k'", KIB},  {"unit='KiB'", KIB},      {"unit='KB'", 1000},
        {"unit='M'", MIB},  {"unit='MiB'", MIB},      {"unit='MB'", 1000000},
        {"unit='G'", GIB},  {"unit='gib'", GIB},      {"unit='GB'", 1000000000},
        {"unit='T'", GIB * 1024}, {"unit='TB'", UINT64_C(1000000000000)},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char xml[256];
        np_guest_spec s;
        np_error e;
        snprintf(xml, sizeof(xml), "<domain><memory %s> 3 </memory></domain>", cases[i].unit);
        ASSERT_EQ(rd(xml, &s, &e), 0);
        ASSERT_U64_EQ(s.maxmem_bytes, 3 * cases[i].bytes_per);
        ASSERT_U64_EQ(s.mem_bytes, 3 * cases[i].bytes_per);
    }
}

static void test_elements(void)
{
    np_guest_spec s;
    np_error e;
    ASSERT_EQ(rd("<domain type='kvm'><name> web </name><vcpu current='2'>4</vcpu>"
                 "<memory unit='GiB'>8</memory><currentMemory unit='MiB'>6144</currentMemory>"
                 "<devices><hostdev mode='subsystem' type='pci'><source>"
                 "<address domain='0x0001' bus='0x3A' slot='0x1f' function='7'/></source>"
                 "</hostdev></devices></domain>",
                 &s, &e),
              0);
    ASSERT_STR_EQ(s.name, "web");
    ASSERT_EQ(s.vcpus, 4);
    ASSERT_U64_EQ(s.maxmem_bytes, 8 * GIB);
    ASSERT_U64_EQ(s.mem_bytes, 6 * GIB);
    ASSERT_STR_EQ(s.devices[0], "0001:3a:1f.7");
    ASSERT_TRUE(!s.no_autoplace);
    ASSERT_EQ(s.vnuma_nodes, NP_VNUMA_AUTO);
}

static void test_manual_placement(void)
{
    np_guest_spec s;
    np_error e;
    /* numad's advice (placement='auto') is what numaplace replaces. */
    ASSERT_EQ(rd("<domain><vcpu placement='auto'>2</vcpu>"
                 "<numatune><memory mode='strict' placement='auto'/></numatune></domain>",
                 &s, &e),
              0);
    ASSERT_TRUE(!s.no_autoplace);
    ASSERT_EQ(rd("<domain><vcpu placement='static' cpuset='0-3'>2</vcpu></domain>", &s, &e), 0);
    ASSERT_TRUE(s.no_autoplace);
    ASSERT_EQ(s.affinity, NP_AFFINITY_HARD);
    ASSERT_EQ(rd("<domain><numatune><memory mode='preferred' nodeset='1'/></numatune></domain>",
                 &s, &e),
              0);
    ASSERT_TRUE(s.no_autoplace);
    ASSERT_EQ(s.affinity, NP_AFFINITY_SOFT);
    ASSERT_EQ(rd("<domain><cputune><emulatorpin cpuset='0'/></cputune></domain>", &s, &e), 0);
    ASSERT_TRUE(!s.no_autoplace);
    ASSERT_EQ(rd("<domain><cpu><numa><cell id='0'/><cell id='1'/><cell id='2'/></numa></cpu>"
                 "</domain>",
                 &s, &e),
              0);
    ASSERT_EQ(s.vnuma_nodes, 3);
}

static void test_errors(void)
{
    static const struct {
        const char *text;
        unsigned line;
        const char *msg;
    } cases[] = {
        {"<domain>\n<name>a</name>\n<name>b</name>\n</domain>", 3, "<name> given twice (first on line 2)"},
        {"<domain>\n<vcpu>four</vcpu></domain>", 2, "<vcpu>: expected a whole number of vCPUs"},
        {"<domain>\n<vcpu>5000</vcpu></domain>", 2, "at most 4096"},
        {"<domain>\n<vcpu placement='numad'>2</vcpu></domain>", 2, "expected static or auto"},
        {"<domain>\n\n<memory>-5</memory></domain>", 3, "<memory>: expected a whole number of KiB"},
        {"<domain><memory unit='EiB'>99</memory></domain>", 1, "below 16 EiB"},
        {"<domain>\n<currentMemory unit='G'>1.5</currentMemory></domain>", 2, "expected a whole number of G"},
        {"<domain><devices>\n<hostdev type='pci'><source/></hostdev></devices></domain>", 2,
         "expected <source><address"},
        {"<domain><devices><hostdev type='pci'><source>\n<address bus='0x100' slot='0' "
         "function='0'/></source></hostdev></devices></domain>",
         2, "<address bus=>"},
        {"<domain><devices><hostdev type='pci'><source>\n<address bus='1' function='0'/>"
         "</source></hostdev></devices></domain>",
         2, "<address slot=>"},
        {"<domain><name>no/slash</name></domain>", 1, "<name>: expected a name"},
        {"<vm/>", 1, "expected a libvirt <domain> document, found <vm>"},
        {"<domain>\n<name>a</name>\n", 3, "malformed XML"},
        {"", 1, "malformed XML"},
        {"<domain>&undefined;</domain>", 1, "malformed XML: Entity 'undefined' not defined"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        np_guest_spec s;
        np_error e;
        ASSERT_EQ(rd(cases[i].text, &s, &e), -EINVAL);
        if (e.line != cases[i].line || !strstr(e.msg, cases[i].msg))
            fprintf(stderr, "  case %zu: line %u: %s\n", i, e.line, e.msg);
        ASSERT_STR_EQ(e.origin, "dom.xml");
        ASSERT_EQ(e.line, cases[i].line);
        ASSERT_CONTAINS(e.msg, cases[i].msg);
    }
}

int main(void)
{
    NP_RUN(test_units);
    NP_RUN(test_elements);
    NP_RUN(test_manual_placement);
    NP_RUN(test_errors);
    return np_test_summary();
}
