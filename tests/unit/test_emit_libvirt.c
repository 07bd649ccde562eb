/*
 * test_emit_libvirt.c - the libvirt emitter, checked by libvirt's own
 * schema: each fragment is wrapped in a minimal <domain> and given to
 * virt-xml-validate (Debian: libvirt-clients; skipped with a message when
 * it is not installed), and read back by numaplace's libvirt reader.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <numaplace/guest.h>

#include "np_test.h"
#include "test_emit_common.h"

#define VALIDATOR "virt-xml-validate"

static bool have_validator(void)
{
    const char *path = getenv("PATH");
    char dir[4096];
    while (path && *path) {
        size_t n = strcspn(path, ":");
        snprintf(dir, sizeof(dir), "%.*s/" VALIDATOR, (int)n, path);
        if (access(dir, X_OK) == 0)
            return true;
        path += n + (path[n] == ':');
    }
    return false;
}

static char *wrap(const char *fragment)
{
    static const char head[] = "<domain type='kvm'>\n";
    static const char tail[] = "<os><type arch='x86_64' machine='pc'>hvm</type></os>\n</domain>\n";
    size_t n = strlen(head) + strlen(fragment) + strlen(tail) + 1;
    char *doc = malloc(n);
    if (doc)
        snprintf(doc, n, "%s%s%s", head, fragment, tail);
    return doc;
}

/* Exit status of virt-xml-validate FILE domain, its output discarded. */
static int validate(const char *doc)
{
    char path[] = "/tmp/np-emit-libvirt-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    size_t len = strlen(doc);
    bool ok = write(fd, doc, len) == (ssize_t)len;
    close(fd);
    int status = -1;
    pid_t pid = ok ? fork() : -1;
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execlp(VALIDATOR, VALIDATOR, path, "domain", (char *)NULL);
        _exit(127);
    }
    if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status))
        status = WEXITSTATUS(status);
    unlink(path);
    return status;
}

static void check_model(np_emit_model *m, bool validator)
{
    char *frag = NULL;
    np_error e = {0};
    ASSERT_EQ(np_emit_model_write(NP_EMIT_LIBVIRT_XML, m, 0, &frag, &e), 0);
    char *doc = frag ? wrap(frag) : NULL;
    ASSERT_TRUE(doc != NULL);
    if (!doc) {
        free(frag);
        return;
    }
    if (validator)
        ASSERT_EQ(validate(doc), 0);

    np_guest_spec s;
    ASSERT_EQ(np_guest_spec_read_libvirt_xml(doc, strlen(doc), "emitted", &s, &e), 0);
    ASSERT_STR_EQ(s.name, m->name);
    ASSERT_EQ(s.vcpus, m->nr_vcpus);
    uint64_t max = m->maxmem_bytes;
    if (m->nr_vnodes) {
        max = 0;
        for (size_t i = 0; i < m->nr_vnodes; i++)
            max += m->vnodes[i].mem_bytes;
    }
    ASSERT_U64_EQ(s.maxmem_bytes, (max + 1023) / 1024 * 1024);
    ASSERT_U64_EQ(s.mem_bytes, (m->mem_bytes + 1023) / 1024 * 1024);
    ASSERT_EQ(s.vnuma_nodes, m->nr_vnodes ? (int32_t)m->nr_vnodes : NP_VNUMA_AUTO);
    ASSERT_TRUE(s.no_autoplace); /* the numatune nodeset is a manual placement */
    ASSERT_EQ(s.affinity, m->affinity == NP_AFFINITY_HARD ? NP_AFFINITY_HARD : NP_AFFINITY_SOFT);
    free(doc);
    free(frag);
}

static void test_fragments(void)
{
    bool validator = have_validator();
    if (!validator)
        fprintf(stderr, "SKIP schema checks: " VALIDATOR " not installed "
                        "(Debian package libvirt-clients)\n");
    static const np_affinity_mode modes[] = {NP_AFFINITY_HARD, NP_AFFINITY_SOFT,
                                             NP_AFFINITY_NONE};
    for (size_t k = 0; k < 3; k++) {
        np_emit_model m;
        ASSERT_EQ(t_model_vnuma(&m, modes[k], -1, 6144), 0);
        check_model(&m, validator);
        np_emit_model_fini(&m);
        uint32_t one[] = {2}, two[] = {0, 2};
        ASSERT_EQ(t_model_flat(&m, modes[k], one, 1, "16-23", 2048), 0);
        check_model(&m, validator);
        np_emit_model_fini(&m);
        ASSERT_EQ(t_model_flat(&m, modes[k], two, 2, "0-7,32-39", 3000), 0);
        check_model(&m, validator);
        np_emit_model_fini(&m);
        /* a memory-only cell: no cpus= (optional in libvirt's schema) */
        ASSERT_EQ(t_model_memory_only(&m, modes[k], -1, 4096), 0);
        check_model(&m, validator);
        np_emit_model_fini(&m);
    }
}

static void test_mapping(void)
{
    np_emit_model m;
    char *t = NULL;
    np_error e = {0};
    uint32_t one[] = {2}, two[] = {0, 2};
    ASSERT_EQ(t_model_flat(&m, NP_AFFINITY_SOFT, one, 1, "16-23", 2048), 0);
    ASSERT_EQ(np_emit_model_write(NP_EMIT_LIBVIRT_XML, &m, NP_EMIT_NO_COMMENTS, &t, &e), 0);
    ASSERT_STR_EQ(t, "<name>db</name>\n<memory unit='KiB'>2097152</memory>\n"
                     "<currentMemory unit='KiB'>2097152</currentMemory>\n"
                     "<vcpu placement='static'>2</vcpu>\n"
                     "<numatune>\n  <memory mode='preferred' nodeset='2'/>\n</numatune>\n");
    free(t);
    np_emit_model_fini(&m);

    ASSERT_EQ(t_model_flat(&m, NP_AFFINITY_SOFT, two, 2, "0-7", 2048), 0);
    ASSERT_EQ(np_emit_model_write(NP_EMIT_LIBVIRT_XML, &m, 0, &t, &e), 0);
    ASSERT_CONTAINS(t, "<memory mode='interleave' nodeset='0,2'/>");
    free(t);
    np_emit_model_fini(&m);

    ASSERT_EQ(t_model_flat(&m, NP_AFFINITY_HARD, two, 2, "0-7", 2048), 0);
    ASSERT_EQ(np_emit_model_write(NP_EMIT_LIBVIRT_XML, &m, 0, &t, &e), 0);
    ASSERT_CONTAINS(t, "<vcpu placement='static' cpuset='0-7'>2</vcpu>");
    ASSERT_TRUE(strstr(t, "vcpupin") == NULL); /* one mask for all: no per-vCPU pins */
    ASSERT_CONTAINS(t, "<memory mode='strict' nodeset='0,2'/>");
    free(t);
    np_emit_model_fini(&m);

    ASSERT_EQ(t_model_vnuma(&m, NP_AFFINITY_HARD, -1, 6144), 0);
    ASSERT_EQ(np_emit_model_write(NP_EMIT_LIBVIRT_XML, &m, 0, &t, &e), 0);
    ASSERT_CONTAINS(t, "<vcpupin vcpu='2' cpuset='24-27,30'/>");
    ASSERT_CONTAINS(t, "<memnode cellid='1' mode='strict' nodeset='3'/>");
    ASSERT_CONTAINS(t, "<cell id='1' cpus='2-3' memory='6291456' unit='KiB'>");
    ASSERT_CONTAINS(t, "<sibling id='0' value='21'/>");
    free(t);
    np_emit_model_fini(&m);
}

/* The schema check itself must be able to fail. */
static void test_validator_rejects_garbage(void)
{
    if (!have_validator()) {
        fprintf(stderr, "SKIP: " VALIDATOR " not installed\n");
        return;
    }
    char *doc = wrap("<numatune><memory mode='sometimes' nodeset='0'/></numatune>\n");
    ASSERT_TRUE(doc && validate(doc) != 0);
    free(doc);
}

int main(void)
{
    NP_RUN(test_fragments);
    NP_RUN(test_mapping);
    NP_RUN(test_validator_rejects_garbage);
    return np_test_summary();
}
