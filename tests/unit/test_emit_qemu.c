/*
 * test_emit_qemu.c - the QEMU emitter, checked by QEMU itself: the emitted
 * options are added to a paused, display-less PC machine
 * (qemu-system-x86_64 -M pc -accel tcg -display none -nodefaults -S
 * -monitor stdio), which must start and quit cleanly on "quit". Every
 * memory backend is bound to host node 0, the only node a test machine is
 * sure to have. Skipped with a message when QEMU is not installed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "np_test.h"
#include "test_emit_common.h"

#define QEMU "qemu-system-x86_64"
#define QEMU_TIMEOUT "60" /* seconds; a paused TCG machine quits in well under 1 */
#define MAX_ARGS 256

static bool have_qemu(void)
{
    const char *path = getenv("PATH");
    char file[4096];
    while (path && *path) {
        size_t n = strcspn(path, ":");
        snprintf(file, sizeof(file), "%.*s/" QEMU, (int)n, path);
        if (access(file, X_OK) == 0)
            return true;
        path += n + (path[n] == ':');
    }
    return false;
}

/* Splits the emitted text into argv words: "-opt value" lines, comments
 * skipped. Modifies text. Returns the count added. */
static int split(char *text, char **argv, int max)
{
    int n = 0;
    for (char *line = text, *next; *line; line = next) {
        char *nl = strchr(line, '\n');
        next = nl ? nl + 1 : line + strlen(line);
        if (nl)
            *nl = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char *sp = strchr(line, ' ');
        if (!sp || strchr(sp + 1, ' ') || n + 2 > max)
            return -1; /* every option line is "-opt value" */
        *sp = '\0';
        argv[n++] = line;
        argv[n++] = sp + 1;
    }
    return n;
}

/* Runs QEMU with the options, sends "quit"; its exit status, and its
 * stderr in err_out. */
static int run_qemu(char **opts, int nr_opts, char *err_out, size_t err_len)
{
    char *argv[MAX_ARGS + 16];
    int n = 0;
    const char *fixed[] = {"timeout", QEMU_TIMEOUT, QEMU, "-M", "pc", "-accel", "tcg",
                           "-display", "none", "-nodefaults", "-S", "-monitor", "stdio"};
    for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
        argv[n++] = (char *)fixed[i];
    for (int i = 0; i < nr_opts; i++)
        argv[n++] = opts[i];
    argv[n] = NULL;

    int in[2], err[2];
    if (pipe(in) < 0 || pipe(err) < 0)
        return -1;
    pid_t pid = fork();
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(in[0], 0);
        dup2(null, 1);
        dup2(err[1], 2);
        close(in[1]);
        close(err[0]);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(in[0]);
    close(err[1]);
    if (write(in[1], "quit\n", 5) != 5)
        fprintf(stderr, "could not write to qemu\n");
    close(in[1]);
    size_t got = 0;
    ssize_t r;
    while ((r = read(err[0], err_out + got, err_len - 1 - got)) > 0 && got + 1 < err_len)
        got += (size_t)r;
    err_out[got] = '\0';
    close(err[0]);
    int status = -1;
    if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status))
        return WEXITSTATUS(status);
    return -1;
}

static void start_qemu(np_emit_model *m)
{
    char *text = NULL;
    np_error e = {0};
    ASSERT_EQ(np_emit_model_write(NP_EMIT_QEMU_ARGS, m, 0, &text, &e), 0);
    if (!text)
        return;
    char *opts[MAX_ARGS];
    int n = split(text, opts, MAX_ARGS);
    ASSERT_TRUE(n > 0);
    if (n > 0) {
        char errtext[4096];
        int rc = run_qemu(opts, n, errtext, sizeof(errtext));
        if (rc != 0 || errtext[0])
            fprintf(stderr, "qemu exit %d: %s\n", rc, errtext);
        ASSERT_EQ(rc, 0);
        ASSERT_STR_EQ(errtext, ""); /* not even a warning */
    }
    free(text);
}

static void test_qemu_starts(void)
{
    if (!have_qemu()) {
        fprintf(stderr, "SKIP: " QEMU " not installed (Debian package qemu-system-x86)\n");
        return;
    }
    static const np_affinity_mode modes[] = {NP_AFFINITY_HARD, NP_AFFINITY_SOFT};
    for (size_t k = 0; k < 2; k++) {
        np_emit_model m;
        ASSERT_EQ(t_model_vnuma(&m, modes[k], 0, 128), 0);
        start_qemu(&m);
        np_emit_model_fini(&m);
        uint32_t node0[] = {0};
        ASSERT_EQ(t_model_flat(&m, modes[k], node0, 1, "0", 256), 0);
        start_qemu(&m);
        np_emit_model_fini(&m);
        /* a memory-only node (-numa node without cpus=), as for CXL memory */
        ASSERT_EQ(t_model_memory_only(&m, modes[k], 0, 128), 0);
        start_qemu(&m);
        np_emit_model_fini(&m);
    }
}

/* A broken option must make the same harness fail: the check can fail. */
static void test_qemu_rejects_garbage(void)
{
    if (!have_qemu()) {
        fprintf(stderr, "SKIP: " QEMU " not installed\n");
        return;
    }
    char *opts[] = {"-numa", "node,nodeid=0,cpus=0-1,memdev=nosuchmem", "-smp", "2"};
    char errtext[4096];
    ASSERT_TRUE(run_qemu(opts, 4, errtext, sizeof(errtext)) != 0);
    ASSERT_CONTAINS(errtext, "nosuchmem");
}

static void test_text(void)
{
    np_emit_model m;
    char *t = NULL;
    np_error e = {0};
    ASSERT_EQ(t_model_vnuma(&m, NP_AFFINITY_HARD, -1, 6144), 0);
    ASSERT_EQ(np_emit_model_write(NP_EMIT_QEMU_ARGS, &m, NP_EMIT_NO_COMMENTS, &t, &e), 0);
    ASSERT_STR_EQ(t, "-name web\n-m 12288M\n-smp 4\n"
                     "-object memory-backend-ram,id=mem0,size=6144M,host-nodes=1,policy=bind\n"
                     "-numa node,nodeid=0,cpus=0-1,memdev=mem0\n"
                     "-object memory-backend-ram,id=mem1,size=6144M,host-nodes=3,policy=bind\n"
                     "-numa node,nodeid=1,cpus=2-3,memdev=mem1\n"
                     "-numa dist,src=0,dst=1,val=21\n-numa dist,src=1,dst=0,val=21\n"
                     "# vcpu 0: 8-15\n# vcpu 1: 8-15\n# vcpu 2: 24-27,30\n# vcpu 3: 24-27,30\n");
    free(t);
    np_emit_model_fini(&m);

    /* Non-contiguous sets become repeated keys. */
    ASSERT_EQ(np_emit_model_init(&m, 4, 2, 1), 0);
    m.affinity = NP_AFFINITY_NONE;
    m.mem_bytes = m.maxmem_bytes = 1024 * T_MIB;
    m.node_os_id[0] = 1;
    m.node_os_id[1] = 4;
    m.node_mem_bytes[0] = m.node_mem_bytes[1] = 512 * T_MIB;
    m.vnodes[0].pnode_os_id = 4;
    m.vnodes[0].mem_bytes = 1024 * T_MIB;
    np_bitmap_set_range(m.vnodes[0].vcpus, 0, 3);
    m.vdistance[0] = 10;
    ASSERT_EQ(np_emit_model_write(NP_EMIT_QEMU_ARGS, &m, NP_EMIT_NO_COMMENTS, &t, &e), 0);
    ASSERT_CONTAINS(t, "host-nodes=4,policy=preferred\n-numa node,nodeid=0,cpus=0-3,memdev=mem0\n");
    free(t);
    np_emit_model_fini(&m);

    uint32_t nodes[] = {0, 2, 3};
    ASSERT_EQ(t_model_flat(&m, NP_AFFINITY_SOFT, nodes, 3, "0-3,8-11", 3072), 0);
    ASSERT_EQ(np_emit_model_write(NP_EMIT_QEMU_ARGS, &m, NP_EMIT_NO_COMMENTS, &t, &e), 0);
    ASSERT_CONTAINS(t, "-machine memory-backend=mem0\n-object memory-backend-ram,id=mem0,"
                       "size=3072M,host-nodes=0,host-nodes=2-3,policy=preferred\n");
    ASSERT_CONTAINS(t, "# vcpu 1: 0-3,8-11\n");
    free(t);
    np_emit_model_fini(&m);
}

int main(void)
{
    NP_RUN(test_text);
    NP_RUN(test_qemu_starts);
    NP_RUN(test_qemu_rejects_garbage);
    return np_test_summary();
}
