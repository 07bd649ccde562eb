/*
 * cli/main.c - `numaplace`: dispatch to subcommands, global --help and
 * --version. Each subcommand lives in its own cmd_*.c file.
 *
 * Standard output is checked here, once for every command: a command whose
 * output could not be written (a full disk, /dev/full, a closed pipe or a
 * closed descriptor) exits NP_EXIT_INTERNAL with a message, never 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const np_cli_cmd *const commands[] = {
    &np_cmd_topology,
    &np_cmd_place,
    &np_cmd_demo,
    &np_cmd_dom0,
    &np_cmd_bench,
    &np_cmd_create,
    &np_cmd_status,
    &np_cmd_verify,
    &np_cmd_migrate,
    &np_cmd_exclude,
    &np_cmd_include,
    &np_cmd_ksm,
    &np_cmd_advise,
};
#define NR_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
    fprintf(out, "usage: numaplace [--version] [--help] COMMAND [OPTIONS]\n\n"
                 "Decide where virtual machines' vCPUs and memory live on a NUMA host.\n\n"
                 "Commands:\n");
    for (size_t i = 0; i < NR_COMMANDS; i++)
        fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out, "  %-10s %s\n", "help", "show help for a command (numaplace help COMMAND)");
    fprintf(out, "\nEvery command takes --json for machine-readable output and --help.\n"
                 "Exit status: 0 success, 1 a negative answer, 2 bad usage or input, "
                 "3 internal error.\n"
                 "See numaplace(1).\n");
}

static const np_cli_cmd *find_command(const char *name)
{
    for (size_t i = 0; i < NR_COMMANDS; i++)
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
    return NULL;
}

/* Flushes and closes standard output; rc, or NP_EXIT_INTERNAL after a
 * message when something written to it was lost. */
static int finish_stdout(int rc)
{
    int failed = fflush(stdout) != 0 || ferror(stdout);
    int saved = errno;
    if (fclose(stdout) != 0 && !failed) {
        failed = 1;
        saved = errno;
    }
    if (!failed)
        return rc;
    cli_errorf("cannot write standard output: %s", strerror(saved ? saved : EIO));
    return rc == NP_EXIT_OK || rc == NP_EXIT_FAIL ? NP_EXIT_INTERNAL : rc;
}

static int run(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return NP_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
        printf("numaplace %s\n", np_version());
        return NP_EXIT_OK;
    }
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        usage(stdout);
        return NP_EXIT_OK;
    }
    if (strcmp(name, "help") == 0) {
        if (argc < 3) {
            usage(stdout);
            return NP_EXIT_OK;
        }
        const np_cli_cmd *cmd = find_command(argv[2]);
        if (!cmd) {
            cli_errorf("no command '%s'; `numaplace --help` lists them", argv[2]);
            return NP_EXIT_USAGE;
        }
        cmd->usage(stdout);
        return NP_EXIT_OK;
    }
    const np_cli_cmd *cmd = find_command(name);
    if (!cmd) {
        cli_errorf("no command '%s'; `numaplace --help` lists them", name);
        return NP_EXIT_USAGE;
    }
    return cmd->run(argc - 1, argv + 1);
}

int main(int argc, char **argv)
{
    /* A closed standard output would be taken by the next file opened
     * (a topology, the daemon's socket), and writes meant for the user
     * would go there. */
    if (fcntl(STDOUT_FILENO, F_GETFD) < 0 && errno == EBADF) {
        cli_errorf("cannot write standard output: it is closed");
        return NP_EXIT_INTERNAL;
    }
    return finish_stdout(run(argc, argv));
}
