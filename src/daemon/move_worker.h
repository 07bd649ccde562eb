/*
 * daemon/move_worker.h - numaplaced's memory mover thread: migrations the
 * balancer asked for run here, in bounded steps paced by the migration
 * budget, while the main thread goes on sensing, deciding for other
 * guests, answering the control socket and handling signals. One job per
 * guest at a time; the round hands jobs over and collects finished ones.
 * Used when the backend says its migrate_memory may run concurrently
 * (NP_BACKEND_CONCURRENT_MIGRATE); otherwise the round migrates itself.
 * DWORKER_THREADS threads take jobs, the largest queued first unless one
 * has waited longer than DWORKER_MAX_WAIT_NS (one thread per job), and
 * share one byte budget.
 */
#ifndef NP_DAEMON_MOVE_WORKER_H
#define NP_DAEMON_MOVE_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include <numaplace/backend.h>
#include <numaplace/backend_linux.h>
#include <numaplace/balance.h>
#include <numaplace/ctl.h>

/* Migrations of one job: those of one guest in one round. A round's budget
 * at the defaults is 40 chunks of 64 MiB shared by all guests, and a guest's
 * chunks come from at most (nodes - 1) source nodes; 16 covers a 2.56 GB
 * round for one guest in 64 MiB chunks up to 1 GiB, and what does not fit
 * is asked for again next round. */
#define DWORKER_JOB_MAX_ACTIONS 16u
/* Mover threads: guests whose memory moves at the same time. One: in the
 * unpinned VM test (TCG, 8 emulated CPUs on 2 host cores, six writing
 * guest threads) two guests moved at once on two threads made 820 pages/s
 * together against 1,110 for one guest alone (docs/results-linux.md): a
 * quiesced step's kernel work competes for the same CPUs as the other
 * mover's, so overlapping steps only slows both. With one thread the jobs
 * run one after the other, the one with the most bytes to move first;
 * the last guest is local at the same time in any order (the pages to
 * move are the same), every earlier one sooner than when all share, and a
 * small job (a guest nearly local) does not hold up the guests that need
 * theirs to become local. */
#define DWORKER_THREADS 1u
/* Ageing of the queue: a job queued longer than this runs next, whatever
 * its size (the longest waiting first), so that bigger jobs arriving round
 * after round cannot keep a small one waiting for ever. 20 s is 10 rounds
 * at the default 2 s period. At the default budget (1280 MB/s) the largest
 * job a round hands out (16 x 64 MiB) takes 0.8 s, so a job waits 20 s
 * only behind some 25 larger ones: starvation, not the ordinary
 * largest-first order of one round's jobs, is what the bound overrules.
 * Where moves are slow (the unpinned TCG test: 192 MiB jobs at 3-8 MB/s,
 * 25-65 s each) it lets a small job run after at most one large one. */
#define DWORKER_MAX_WAIT_NS (20ull * 1000000000ull)

typedef struct dworker dworker;

typedef struct dmove_job {
    uint64_t guest_id;
    char name[NP_BACKEND_NAME_MAX];     /* as the backend lists it */
    char bal_name[NP_GUEST_NAME_MAX];   /* as the balancer knows it */
    np_balance_action acts[DWORKER_JOB_MAX_ACTIONS]; /* MIGRATE_MEMORY only: no masks */
    unsigned from_os_id[DWORKER_JOB_MAX_ACTIONS], to_os_id[DWORKER_JOB_MAX_ACTIONS]; /* for the log */
    size_t nr_acts;
    uint64_t pending_bytes; /* what the balancer counted off home when submitted */
    /* Filled by the worker (read them through dworker_progress/harvest). */
    uint64_t asked_bytes, moved_bytes;
    int rc;
    uint64_t queued_ns; /* CLOCK_MONOTONIC at dworker_submit */
    bool started, done, cancelled;
} dmove_job;

/* Starts the thread; budget_bps paces the steps (0: no pacing). */
int dworker_create(np_backend *be, uint64_t budget_bps, uint64_t step_bytes, dworker **out);
/* Cancels every job, waits for the step under way (bounded) and ends the
 * thread; the jobs stay, finished, for a last dworker_harvest. */
void dworker_stop(dworker *w);
/* dworker_stop waiting at most timeout_ns for the step under way:
 * -ETIMEDOUT when the thread is still inside the backend (a move_pages call
 * the kernel finishes on its own; the worker must then not be destroyed). */
int dworker_stop_within(dworker *w, uint64_t timeout_ns);
/* Cancels every job and asks the thread to end after its batch, without
 * waiting (the control thread, at SIGTERM: the stop wait above then starts
 * with the batch already ending). Any thread; NULL is a no-op. */
void dworker_ask_stop(dworker *w);
/* dworker_stop, then frees the worker and any job not collected. NULL ok. */
void dworker_destroy(dworker *w);
void dworker_set_budget(dworker *w, uint64_t budget_bps);
/* The ageing bound (DWORKER_MAX_WAIT_NS at create; tests shorten it). */
void dworker_set_max_wait(dworker *w, uint64_t max_wait_ns);
/* Quiesced steps for the Linux backend lb (move_quiesce of the config):
 * starts the guardian (quiesce.h) whose record is state_path + ".stopped",
 * after resuming what an earlier run's record names. Call once, before the
 * first job. */
int dworker_set_quiesce(dworker *w, np_linux_backend *lb, np_daemon_move_quiesce mode,
                        const char *state_path);
/* A job for the guest is queued, running or finished and not collected. */
bool dworker_busy(dworker *w, uint64_t guest_id);
/* Queues a copy of job (its guest must not be busy): 0, -EBUSY, -ENOMEM. */
int dworker_submit(dworker *w, const dmove_job *job);
/* Asks the guest's job to stop after its current step. */
void dworker_cancel(dworker *w, uint64_t guest_id);
/* Bytes moved and asked by the guest's job; false when it has none. */
bool dworker_progress(dworker *w, uint64_t guest_id, uint64_t *moved_out, uint64_t *asked_out);
/* Hands each finished job to fn, then forgets it. Returns how many. */
size_t dworker_harvest(dworker *w, void (*fn)(void *opaque, const dmove_job *job), void *opaque);

/* The daemon's side (balance_glue.c): collects finished jobs into the
 * daemon's guests and the balancer's state. stopping: the daemon is
 * stopping (dworker_stop): only the bytes moved are counted, the guests'
 * migrations stay in flight for the next start to resume. */
struct daemon;
void daemon_collect_moves(struct daemon *d, bool stopping);

#endif
