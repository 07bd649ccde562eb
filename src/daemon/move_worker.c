/*
 * daemon/move_worker.c - the memory mover thread (move_worker.h).
 *
 * Why a thread: a migration step on a loaded host took 13-16 s (TCG test
 * guest, issue 12); inside the round that froze sensing, the other guests'
 * decisions and the control socket. Here the main thread only queues a job
 * and later collects it. The worker runs each job's actions through
 * np_backend_act() (the act step the simulator runs too) in steps of at
 * most step_bytes; after each step it publishes the progress, honours a
 * cancel (guest excluded, daemon stopping) and waits until the budget
 * allows the next step. The wait is on a condition variable, so stopping
 * the daemon waits for one step at most, never for a whole migration.
 */
#include "move_worker.h"

#include "daemon.h"
#include "quiesce.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* One mover thread and the job it runs. */
typedef struct dmover {
    pthread_t thread;
    struct dworker *w;
    dmove_job *running; /* NULL: none */
    bool joined;
} dmover;

struct dworker {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* jobs queued, stop asked, a cancel */
    np_backend *be;
    uint64_t budget_bps, step_bytes;
    uint64_t max_wait_ns; /* ageing of the queue (DWORKER_MAX_WAIT_NS) */
    uint64_t paced_until_ns; /* the shared budget's clock (step_done) */
    bool joined;
    dmove_job **jobs; /* queued, running and finished, in submission order */
    size_t nr, cap;
    bool stop;
    dquiesce *quiesce; /* guardian of quiesced steps (NULL: none) */
    dmover movers[DWORKER_THREADS];
    size_t nr_movers; /* started */
};

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* What one step's hook needs. */
typedef struct step_ctx {
    dworker *w;
    dmove_job *job;
    size_t act;        /* the action under way */
    uint64_t base;     /* bytes moved by the job's earlier actions */
    uint64_t start_ns; /* when this step started */
    uint64_t last;     /* bytes of this action moved at the last step */
} step_ctx;

/* After a step: publish, then wait for the budget, which all mover threads
 * share: each step's bytes push one clock (paced_until_ns) forward by
 * bytes / budget from the later of that clock and the step's start, and
 * the thread waits until then, unless stopped or cancelled meanwhile. So
 * the threads together move no more than the budget, and a thread that
 * moved nothing for a while does not earn a burst. */
static bool step_done(void *opaque, uint64_t moved)
{
    step_ctx *s = opaque;
    dworker *w = s->w;
    const np_balance_action *a = &s->job->acts[s->act];
    bool go;

    dlog(NP_LOG_DEBUG, "guest %s (%s %llu): moved %.1f MiB node %u -> %u (%.1f MiB of this "
         "action left)", s->job->name, dlog_id_word(), (unsigned long long)s->job->guest_id,
         (double)(moved - s->last) / 1048576.0, s->job->from_os_id[s->act],
         s->job->to_os_id[s->act], (double)(a->bytes > moved ? a->bytes - moved : 0) / 1048576.0);
    uint64_t delta = moved - s->last;
    s->last = moved;
    pthread_mutex_lock(&w->mu);
    s->job->moved_bytes = s->base + moved;
    if (w->budget_bps) {
        double wait_s = (double)delta / (double)w->budget_bps;
        uint64_t from = w->paced_until_ns > s->start_ns ? w->paced_until_ns : s->start_ns;
        uint64_t until = from + (uint64_t)(wait_s * 1e9);
        w->paced_until_ns = until;
        /* CLOCK_MONOTONIC deadline for the condition (set in create). */
        while (!w->stop && !s->job->cancelled && mono_ns() < until) {
            struct timespec ts = {.tv_sec = (time_t)(until / 1000000000u),
                                  .tv_nsec = (long)(until % 1000000000u)};
            pthread_cond_timedwait(&w->cv, &w->mu, &ts);
        }
    }
    go = !w->stop && !s->job->cancelled;
    pthread_mutex_unlock(&w->mu);
    s->start_ns = mono_ns();
    return go;
}

static void run_job(dworker *w, dmove_job *job)
{
    np_backend_act_hooks hooks = {.step_bytes = w->step_bytes, .step_done = step_done};
    step_ctx s = {.w = w, .job = job};
    int rc = 0;

    hooks.opaque = &s;
    for (size_t i = 0; i < job->nr_acts && !rc; i++) {
        uint64_t moved = 0;
        s.start_ns = mono_ns();
        s.act = i;
        s.last = 0;
        rc = np_backend_act(w->be, NULL, job->guest_id, &job->acts[i], &hooks, &moved);
        pthread_mutex_lock(&w->mu);
        s.base += moved;
        job->moved_bytes = s.base;
        bool stop = w->stop || job->cancelled;
        pthread_mutex_unlock(&w->mu);
        if (stop || moved < job->acts[i].bytes)
            break; /* stopped, or nothing more movable: the next round decides again */
    }
    pthread_mutex_lock(&w->mu);
    job->rc = rc;
    job->done = true;
    pthread_mutex_unlock(&w->mu);
}

/* The queued job to run next: one that has waited longer than the ageing
 * bound, the longest waiting first; else the one with the most bytes to
 * move (the guest furthest from its home; the first submitted among
 * equals): in the unpinned VM test a 2 MiB job (a guest already local,
 * its three walks of 192 MiB finding 53 KB) ran 7 s ahead of two 192 MiB
 * ones while the guests waiting for them stayed remote. NULL: none. */
static dmove_job *next_job(dworker *w, uint64_t now_ns)
{
    dmove_job *largest = NULL, *oldest = NULL;
    for (size_t i = 0; i < w->nr; i++) {
        dmove_job *j = w->jobs[i];
        if (j->started)
            continue;
        if (!largest || j->asked_bytes > largest->asked_bytes)
            largest = j;
        if (!oldest || j->queued_ns < oldest->queued_ns)
            oldest = j;
    }
    if (oldest && now_ns - oldest->queued_ns > w->max_wait_ns)
        return oldest;
    return largest;
}

static void *worker_main(void *arg)
{
    dmover *me = arg;
    dworker *w = me->w;
    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        dmove_job *job = next_job(w, mono_ns());
        if (!job) {
            pthread_cond_wait(&w->cv, &w->mu);
            continue;
        }
        job->started = true;
        me->running = job;
        pthread_mutex_unlock(&w->mu);
        run_job(w, job); /* the job stays in the table: only harvest frees it */
        pthread_mutex_lock(&w->mu);
        me->running = NULL;
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Ends the threads started (after ask_stop). */
static void join_all(dworker *w)
{
    for (size_t i = 0; i < w->nr_movers; i++)
        if (!w->movers[i].joined) {
            pthread_join(w->movers[i].thread, NULL);
            w->movers[i].joined = true;
        }
}

static void ask_stop(dworker *w);

int dworker_create(np_backend *be, uint64_t budget_bps, uint64_t step_bytes, dworker **out)
{
    pthread_condattr_t ca;
    dworker *w = calloc(1, sizeof(*w));
    int r = 0;

    if (!w)
        return -ENOMEM;
    w->be = be;
    w->budget_bps = budget_bps;
    w->step_bytes = step_bytes;
    w->max_wait_ns = DWORKER_MAX_WAIT_NS;
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    for (size_t i = 0; i < DWORKER_THREADS && !r; i++) {
        w->movers[i].w = w;
        r = pthread_create(&w->movers[i].thread, NULL, worker_main, &w->movers[i]);
        if (!r)
            w->nr_movers++;
    }
    if (r) {
        ask_stop(w);
        join_all(w);
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        free(w);
        return -r;
    }
    *out = w;
    return 0;
}

/* Cancels every job and asks the thread to end after its step. */
static void ask_stop(dworker *w)
{
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    for (size_t i = 0; i < w->nr; i++)
        w->jobs[i]->cancelled = true;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void dworker_ask_stop(dworker *w)
{
    if (w)
        ask_stop(w);
}

void dworker_stop(dworker *w)
{
    if (!w || w->joined)
        return;
    ask_stop(w);
    join_all(w);
    w->joined = true;
    for (size_t i = 0; i < w->nr; i++)
        w->jobs[i]->done = true; /* never started: moved nothing */
}

void dworker_destroy(dworker *w)
{
    if (!w)
        return;
    dworker_stop(w);
    dquiesce_destroy(w->quiesce); /* after the thread: no step under way */
    for (size_t i = 0; i < w->nr; i++)
        free(w->jobs[i]);
    free(w->jobs);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w);
}

/* The mover asks between batches: stop now (daemon stopping, job
 * cancelled), so that a SIGTERM waits one batch, not a whole step. */
static bool should_stop(void *opaque)
{
    dworker *w = opaque;
    pthread_t self = pthread_self();
    pthread_mutex_lock(&w->mu);
    bool stop = w->stop;
    for (size_t i = 0; i < w->nr_movers && !stop; i++)
        if (pthread_equal(w->movers[i].thread, self) && w->movers[i].running)
            stop = w->movers[i].running->cancelled;
    pthread_mutex_unlock(&w->mu);
    return stop;
}

int dworker_set_quiesce(dworker *w, np_linux_backend *lb, np_daemon_move_quiesce mode,
                        const char *state_path)
{
    static const np_linux_quiesce_mode modes[] = {
        [NP_DAEMON_QUIESCE_AUTO] = NP_LINUX_QUIESCE_AUTO,
        [NP_DAEMON_QUIESCE_NEVER] = NP_LINUX_QUIESCE_NEVER,
        [NP_DAEMON_QUIESCE_ALWAYS] = NP_LINUX_QUIESCE_ALWAYS,
    };
    char record[300];
    int rc;

    if (!w || !lb || (unsigned)mode >= sizeof(modes) / sizeof(modes[0]))
        return -EINVAL;
    record[0] = '\0';
    if (state_path && state_path[0] &&
        snprintf(record, sizeof(record), "%s.stopped", state_path) >= (int)sizeof(record))
        return -ENAMETOOLONG;
    if (mode == NP_DAEMON_QUIESCE_NEVER) {
        dquiesce_thaw_record(record); /* what an earlier run with quiescing left */
        return np_linux_backend_set_quiesce(lb, NP_LINUX_QUIESCE_NEVER, NULL, NULL, should_stop,
                                            w);
    }
    if (w->quiesce)
        return -EBUSY;
    rc = dquiesce_create(record, &w->quiesce);
    if (rc)
        return rc;
    return np_linux_backend_set_quiesce(lb, modes[mode], dquiesce_fn, w->quiesce, should_stop, w);
}

void dworker_set_budget(dworker *w, uint64_t budget_bps)
{
    pthread_mutex_lock(&w->mu);
    w->budget_bps = budget_bps;
    pthread_mutex_unlock(&w->mu);
}

void dworker_set_max_wait(dworker *w, uint64_t max_wait_ns)
{
    pthread_mutex_lock(&w->mu);
    w->max_wait_ns = max_wait_ns;
    pthread_mutex_unlock(&w->mu);
}

static dmove_job *find(dworker *w, uint64_t guest_id)
{
    for (size_t i = 0; i < w->nr; i++)
        if (w->jobs[i]->guest_id == guest_id)
            return w->jobs[i];
    return NULL;
}

bool dworker_busy(dworker *w, uint64_t guest_id)
{
    pthread_mutex_lock(&w->mu);
    bool busy = find(w, guest_id) != NULL;
    pthread_mutex_unlock(&w->mu);
    return busy;
}

int dworker_submit(dworker *w, const dmove_job *job)
{
    int rc = 0;
    dmove_job *copy = malloc(sizeof(*copy));
    if (!copy)
        return -ENOMEM;
    *copy = *job;
    copy->asked_bytes = 0;
    for (size_t i = 0; i < copy->nr_acts; i++)
        copy->asked_bytes += copy->acts[i].bytes;
    copy->moved_bytes = 0;
    copy->rc = 0;
    copy->started = copy->done = copy->cancelled = false;
    copy->queued_ns = mono_ns();
    pthread_mutex_lock(&w->mu);
    if (find(w, job->guest_id)) {
        rc = -EBUSY;
    } else if (w->nr == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 8;
        dmove_job **n = realloc(w->jobs, cap * sizeof(*n));
        if (n) {
            w->jobs = n;
            w->cap = cap;
        } else {
            rc = -ENOMEM;
        }
    }
    if (!rc) {
        w->jobs[w->nr++] = copy;
        copy = NULL;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    free(copy);
    return rc;
}

void dworker_cancel(dworker *w, uint64_t guest_id)
{
    pthread_mutex_lock(&w->mu);
    dmove_job *j = find(w, guest_id);
    if (j) {
        j->cancelled = true;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
}

bool dworker_progress(dworker *w, uint64_t guest_id, uint64_t *moved_out, uint64_t *asked_out)
{
    pthread_mutex_lock(&w->mu);
    dmove_job *j = find(w, guest_id);
    if (j) {
        *moved_out = j->moved_bytes;
        *asked_out = j->asked_bytes;
    }
    pthread_mutex_unlock(&w->mu);
    return j != NULL;
}

size_t dworker_harvest(dworker *w, void (*fn)(void *opaque, const dmove_job *job), void *opaque)
{
    dmove_job **done = NULL;
    size_t n = 0, kept = 0;

    pthread_mutex_lock(&w->mu);
    done = malloc((w->nr ? w->nr : 1) * sizeof(*done));
    for (size_t i = 0; i < w->nr; i++) {
        if (w->jobs[i]->done && done)
            done[n++] = w->jobs[i];
        else
            w->jobs[kept++] = w->jobs[i];
    }
    w->nr = kept;
    pthread_mutex_unlock(&w->mu);
    /* Outside the lock: fn may log, save, talk to the balancer. */
    for (size_t i = 0; i < n; i++) {
        fn(opaque, done[i]);
        free(done[i]);
    }
    free(done);
    return n;
}

int dworker_stop_within(dworker *w, uint64_t timeout_ns)
{
    struct timespec ts;

    if (!w || w->joined)
        return 0;
    ask_stop(w);
    clock_gettime(CLOCK_REALTIME, &ts); /* pthread_timedjoin_np's clock */
    uint64_t ns = (uint64_t)ts.tv_nsec + timeout_ns;
    ts.tv_sec += (time_t)(ns / 1000000000u);
    ts.tv_nsec = (long)(ns % 1000000000u);
    /* One deadline for all: the threads' steps run at the same time. A
     * thread joined is marked so that a later stop does not join it twice. */
    for (size_t i = 0; i < w->nr_movers; i++) {
        if (w->movers[i].joined)
            continue;
        if (pthread_timedjoin_np(w->movers[i].thread, NULL, &ts) != 0)
            return -ETIMEDOUT;
        w->movers[i].joined = true;
    }
    w->joined = true;
    for (size_t i = 0; i < w->nr; i++)
        w->jobs[i]->done = true; /* never started: moved nothing */
    return 0;
}
