/*
 * sim/heap.h - the event queue: an indexed min-heap of timers keyed by
 * (time_ns, seq), with a timer wheel in front of it for later timers.
 *
 * Every actor of the simulation (a pCPU, a vCPU, a guest, a periodic
 * task) owns one timer handle, and each handle is in the queue at most
 * once: re-arming a timer moves its entry instead of leaving a stale one
 * behind, so the heap holds as many entries as there are pending actors
 * and every pop is a real event. Ties on time are broken by `seq`, a
 * counter taken when the timer is armed, so events at the same instant run
 * in the order they were scheduled, on every run.
 */
#ifndef NP_SIM_HEAP_H
#define NP_SIM_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct np_timerq np_timerq;

int np_timerq_create(uint32_t nr_handles, np_timerq **out);
void np_timerq_destroy(np_timerq *q);
/* More handles (new ones start disarmed); never shrinks. */
int np_timerq_grow(np_timerq *q, uint32_t nr_handles);
/* Arms (or re-arms) a handle for time_ns. */
void np_timerq_set(np_timerq *q, uint32_t handle, uint64_t time_ns);
/* Disarms a handle; no-op when it is not armed. */
void np_timerq_cancel(np_timerq *q, uint32_t handle);
bool np_timerq_armed(const np_timerq *q, uint32_t handle);
uint64_t np_timerq_when(const np_timerq *q, uint32_t handle); /* armed handles only */
size_t np_timerq_size(const np_timerq *q);
/* Earliest entry: false when empty. Peeking may move timers from the
 * wheel into the heap (never changing what comes out next). */
bool np_timerq_peek(np_timerq *q, uint64_t *time_out);
/* Handle of the earliest entry, UINT32_MAX when empty. */
uint32_t np_timerq_peek_handle(np_timerq *q);
/* Removes the earliest entry and returns its handle and time. The heap
 * finishes the removal lazily: the next np_timerq_set() of an unarmed
 * handle takes the freed root's place (one walk down, not two). */
bool np_timerq_pop(np_timerq *q, uint32_t *handle_out, uint64_t *time_out);
/* np_timerq_pop() when the earliest entry is due at or before until_ns;
 * false, and nothing removed, when the queue is empty or its earliest
 * entry comes later. The event loop's peek and pop in one look for the
 * front (a peek then a pop looked for it twice per event). */
bool np_timerq_pop_until(np_timerq *q, uint64_t until_ns, uint32_t *handle_out,
                         uint64_t *time_out);

#endif
