/*
 * numaplace/balance.h - the runtime balancer: from one snapshot of a host
 * (np_host_state: topology, guests, their vCPUs' CPU use and affinity,
 * their memory per node, free memory per node) decide a short list of
 * actions that keep guests local and nodes evenly loaded.
 *
 * The balancer is pure: data in, decision out. It reads no clock (the
 * caller passes the time), touches no system, and is deterministic (ties
 * are broken on guest names and node indices). The same np_balance() runs
 * against the simulator (policy "numaplace-balance") and against a real
 * host; the caller applies the actions through its backend.
 *
 * What persists between rounds lives in an np_balance_state (per guest:
 * when it was last moved, its home node, the memory still to move). The
 * daemon keeps it across restarts with np_balance_state_save()/load(), a
 * small JSON document. docs/balancing.md has the decision logic and the
 * reasons for every default.
 */
#ifndef NUMAPLACE_BALANCE_H
#define NUMAPLACE_BALANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <numaplace/bitmap.h>
#include <numaplace/common.h>
#include <numaplace/guest.h>
#include <numaplace/hoststate.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct np_balance_state np_balance_state;
typedef struct np_balance_actions np_balance_actions;

/* ---- configuration ----------------------------------------------------------- */

/* Defaults (np_balance_config_init) and why; docs/balancing.md expands. */
/* ESXi rebalances every 2 s (Numa.RebalancePeriod); numad scans every 5-15 s
 * because each of its moves rebinds and migrates a whole process. Our moves
 * are chunked and rate-limited, so the short period costs little. */
#define NP_BALANCE_PERIOD_NS UINT64_C(2000000000)
/* ESXi's Numa.MigImbalanceThreshold: move only for >= 10% imbalance. */
#define NP_BALANCE_IMBALANCE_THRESHOLD 0.10
/* numad's -m default: stop improving a guest above 90% local memory. */
#define NP_BALANCE_LOCALITY_TARGET 0.90
/* 60 s between two moves of one guest: numad waits 5 min because its moves
 * stall the process; ours are chunked, but a guest must still get time to
 * settle: 60 s is 30 periods, and covers moving a 64 GiB guest at the
 * default budget (about 54 s) before it can be moved again. */
#define NP_BALANCE_HOLD_OFF_NS UINT64_C(60000000000)
/* Locality must stay below target this many rounds in a row before the
 * balancer acts on it: where a vCPU last ran is one sample, and a vCPU
 * that stole an idle CPU for a moment is not a reason to move 8 GiB. The
 * kernel's NUMA balancing filters the same way (a page migrates only on a
 * repeated task-node relationship, commit e42c8ff2999d). 3 rounds = 6 s. */
#define NP_BALANCE_CONFIRM_ROUNDS 3u
/* The kernel's historic NUMA-migration cap: 128 MB per 100 ms per node,
 * "1280M per second" (mm/migrate.c numamigrate_update_ratelimit). */
#define NP_BALANCE_MIGRATE_BUDGET_BPS UINT64_C(1280000000)
/* One migration action moves at most this much: katalyst moves pages in
 * chunks of ~20 ms so the guest never stalls long; at a few GB/s of copy
 * speed 20 ms is ~64 MiB. */
#define NP_BALANCE_MIGRATE_CHUNK_BYTES (UINT64_C(64) << 20)
/* A round's list stays short: at most this many actions. A move is two
 * (soft affinity, node affinity) and moves stop when fewer than two are
 * left; migration chunks take the rest. A full default budget is 40
 * chunks (2.56 GB / 64 MiB), so 64 leaves room for a dozen moves. */
#define NP_BALANCE_MAX_ACTIONS 64u

typedef struct np_balance_config {
    uint64_t period_ns;           /* how often np_balance runs; sizes a round's budget */
    double imbalance_threshold;   /* 0..1: least CPU-load gain worth a move */
    double locality_target;       /* 0..1: local share a guest should reach */
    uint64_t hold_off_ns;         /* least time between two moves of a guest */
    uint64_t migrate_budget_bps;  /* memory migration, bytes per second, host-wide */
    uint64_t migrate_chunk_bytes; /* largest single migration action */
    size_t max_actions;           /* per round */
    uint32_t confirm_rounds;      /* rounds of low locality before acting (>= 1) */
} np_balance_config;

void np_balance_config_init(np_balance_config *cfg);

/* ---- persistent state ---------------------------------------------------------- */

#define NP_BALANCE_NEVER UINT64_MAX /* last_move_ns of a guest never moved */
#define NP_BALANCE_REASON_MAX 160

/* What the state remembers of one guest. */
typedef struct np_balance_guest_info {
    uint64_t last_move_ns;   /* NP_BALANCE_NEVER when never moved */
    int32_t home_node_os_id; /* node it was moved to, -1 when none */
    uint64_t pending_bytes;  /* memory still off its home at the last round */
    uint32_t moves;          /* moves since the state was created */
    uint32_t low_rounds;     /* consecutive rounds with locality below target */
    uint64_t settled_bytes;  /* off home but unmovable (np_balance_state_settle) */
    uint64_t move_bytes;     /* off home when it was last re-homed: pending_bytes
                                against this is the move's progress */
    /* A guest wider than one node has a home SET (bit k: node os id k; 0
     * when its home is one node, home_node_os_id). Its vCPUs prefer the
     * set's CPUs, its memory is spread over the set in proportion to the
     * set's CPUs per node, and its locality is the share of its memory
     * matching where its vCPUs run (docs/balancing.md, "Guests wider than
     * one node"); home_node_os_id is then the set's lowest node. */
    uint64_t home_nodes_mask;
    /* Consecutive rounds in which the node it prefers had more CPU demand
     * than capacity by the imbalance threshold. Not saved: after a restart
     * an overload is confirmed again before a guest moves for load. */
    uint32_t hot_rounds;
    /* Of the last round only (not saved): the expected local share of its
     * accesses as the balancer computes it (per vCPU: the node it runs on
     * against the guest's memory per node), and why the guest is where it
     * is - "" when at target, else what it waits for or what was done
     * ("hysteresis: 1 of 2 rounds", "moving: 38% of 350 MiB to node 1",
     * "no CPU room on any node ...", "pinned by someone else ..."). */
    double locality;
    char reason[NP_BALANCE_REASON_MAX];
} np_balance_guest_info;

int np_balance_state_create(np_balance_state **out);
void np_balance_state_destroy(np_balance_state *state); /* NULL ok */
size_t np_balance_state_nr_guests(const np_balance_state *state);
/* 0 and what the state holds for the guest, or -ENOENT. */
int np_balance_state_guest(const np_balance_state *state, const char *name,
                           np_balance_guest_info *out);
/* The caller's migration of a guest toward its home came up short with
 * nothing more movable (file or pinned pages, what a mover does not take):
 * until the guest is re-homed, memory off home up to off_bytes is not
 * pending, so the guest is not held off and no migration is asked for it
 * forever. More than that off home (new memory elsewhere) is pending
 * again. 0, or -ENOENT for a guest the state does not know. */
int np_balance_state_settle(np_balance_state *state, const char *name, uint64_t off_bytes);
/* Forgets a guest (a new guest took its name: a restarted process, a
 * re-created domain): 0, or -ENOENT when the state does not know it. */
int np_balance_state_forget(np_balance_state *state, const char *name);
/* The state as a JSON document (malloc'd, NUL-terminated; free() it):
 *   {"version":1,"last_round_ns":N,"guests":[{"name":"web","last_move_ns":N,
 *    "home":0,"pending_bytes":N,"moves":1,"low_rounds":0}, ...]}
 * last_move_ns is omitted for a guest never moved, last_round_ns before a
 * first round; "settled_bytes":N and "move_bytes":N are written when not 0,
 * "home_nodes":[os ids] for a guest with a home set. */
int np_balance_state_save(const np_balance_state *state, char **json_out);
/* Reads what np_balance_state_save wrote. Bad input: -EINVAL, err filled
 * (origin, line, what was expected), no state. */
int np_balance_state_load(const char *text, size_t len, const char *origin, np_balance_state **out,
                          np_error *err);

/* ---- actions ------------------------------------------------------------------- */

typedef enum np_balance_action_kind {
    NP_BALANCE_SET_SOFT_AFFINITY = 0, /* vCPU(s) prefer `cpus` (hard mask unchanged) */
    NP_BALANCE_SET_NODE_AFFINITY,     /* new memory comes from `nodes` */
    NP_BALANCE_MIGRATE_MEMORY,        /* move `bytes` from from_node_idx to to_node_idx */
} np_balance_action_kind;

#define NP_BALANCE_ALL_VCPUS UINT32_MAX

typedef struct np_balance_action {
    np_balance_action_kind kind;
    size_t gidx; /* guest index in the snapshot */
    char guest[NP_GUEST_NAME_MAX];
    uint32_t vcpu;                     /* SET_SOFT_AFFINITY: one vCPU or NP_BALANCE_ALL_VCPUS */
    const np_bitmap *cpus;             /* SET_SOFT_AFFINITY: CPU os_ids */
    const np_bitmap *nodes;            /* SET_NODE_AFFINITY: node os_ids */
    size_t from_node_idx, to_node_idx; /* MIGRATE_MEMORY */
    uint64_t bytes;                    /* MIGRATE_MEMORY */
    char reason[NP_BALANCE_REASON_MAX];
} np_balance_action;

size_t np_balance_actions_count(const np_balance_actions *acts);
/* Borrowed; lives as long as the list. NULL past the end. */
const np_balance_action *np_balance_actions_get(const np_balance_actions *acts, size_t i);
void np_balance_actions_destroy(np_balance_actions *acts); /* NULL ok */
const char *np_balance_action_kind_name(np_balance_action_kind kind);

/* ---- the balancer -------------------------------------------------------------- */

/* One round. Guests left alone: no_autoplace (opt-out). Guests pinned
 * (affinity HARD, or a vCPU whose hard mask is narrower than the host:
 * pinned by someone) keep their affinity and never move for load; when
 * their memory is far from the node their vCPUs run on, that node becomes
 * their home and the memory follows (node affinity and migration only).
 * Affinity NONE guests get memory moves only. Guests whose affinity spans
 * several nodes (placed wide on purpose) are not re-homed. A guest whose
 * demand fits no single node gets a home set: the fewest, nearest nodes
 * with CPU room for its demand and memory room. A guest below
 * target whose vCPUs may move is given the best home among every node with
 * CPU and memory room (most of its memory already there, then nearest to
 * it); a guest with a passthrough device is only homed on its device's
 * node. The state is updated as if the actions were applied (moves
 * recorded, guests gone dropped, each guest's locality and reason set);
 * what the host really did shows in the next snapshot. -EINVAL for bad
 * arguments. */
int np_balance(const np_host_state *st, np_balance_state *state, uint64_t now_ns,
               const np_balance_config *cfg, np_balance_actions **out);

/* A sensed host state knows no specs (np_backend_sense marks every guest
 * no_autoplace). This copies `sensed`, replacing each guest's spec with
 * lookup(opaque, name) when that returns a spec with the same vCPU count
 * (memory sizes stay those sensed). Guests without one keep theirs. */
typedef const np_guest_spec *(*np_balance_spec_lookup)(void *opaque, const char *name);
int np_balance_restate(const np_host_state *sensed, np_balance_spec_lookup lookup, void *opaque,
                       np_host_state **out);

#ifdef __cplusplus
}
#endif
#endif /* NUMAPLACE_BALANCE_H */
