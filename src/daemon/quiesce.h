/*
 * daemon/quiesce.h - stopping a guest for the short quiesced steps of the
 * Linux mover (np_linux_quiesce_fn, linux.h), so that a guest never stays
 * stopped when numaplaced does not resume it:
 *   - a guardian process, forked at start, is told over a socket which
 *     guest is stopped before the SIGSTOP; when numaplaced ends in any way
 *     (kill -9 included) the socket closes and the guardian sends SIGCONT
 *     to what it was told is stopped, then exits;
 *   - a record file (the state file's path + ".stopped") names the stopped
 *     guests, one a line, while they are stopped; the next start resumes what it names (in
 *     case the guardian died too);
 *   - SIGTERM is served after the step under way, which resumes first.
 * A guest already stopped by someone else is not stopped again nor
 * resumed (the step moves beside it: a stopped guest's pages move fast).
 */
#ifndef NP_DAEMON_QUIESCE_H
#define NP_DAEMON_QUIESCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* How long a stop call waits for every thread of the guest to be stopped;
 * when some still run after it, the guest is resumed and the call says
 * -EAGAIN (the mover tries later: moving beside running threads is what
 * is slow). 500 ms: on the TCG test guest at load 10 a vCPU thread waited
 * that long to be scheduled; on hardware the signal takes microseconds. */
#define DQUIESCE_STOP_WAIT_NS 500000000ull
/* Guests one guardian can hold stopped at once (each mover thread,
 * move_worker.h, stops one at a time). */
#define DQUIESCE_MAX_STOPPED 16

typedef struct dquiesce dquiesce;

/* Resumes what the record at record_path (NULL or "": none) says a
 * previous run left stopped, then starts the guardian. */
int dquiesce_create(const char *record_path, dquiesce **out);
/* Resumes anything still stopped, ends the guardian. NULL ok. */
void dquiesce_destroy(dquiesce *q);
/* np_linux_quiesce_fn: opaque is the dquiesce. Thread-safe: several mover
 * threads may each hold a different guest stopped; a second stop of a
 * guest this holds stopped is -EBUSY. */
int dquiesce_fn(void *opaque, pid_t pid, bool stop);
/* One line of a record: "PID START\n" (START: the process's start time in
 * clock ticks, /proc/PID/stat field 22). */
typedef struct dquiesce_entry {
    pid_t pid;
    unsigned long long start;
} dquiesce_entry;
/* Parses a record's text (NUL-terminated): at most max entries into tab,
 * how many; a line that is not two numbers, PID above 0, is skipped. Pure
 * (no file, no process looked at): the fuzz target's entry. */
size_t dquiesce_parse_record(const char *text, dquiesce_entry *tab, size_t max);
/* Resumes the guests a record names (as dquiesce_create does): how many. */
int dquiesce_thaw_record(const char *record_path);

#endif
