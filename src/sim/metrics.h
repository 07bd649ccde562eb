/*
 * sim/metrics.h - the figures a run produces: per guest, per host, and a
 * time series sampled every config.sample_ns.
 */
#ifndef NP_SIM_METRICS_H
#define NP_SIM_METRICS_H

#include "sim/state.h"

/* Close the sample period ending now and append a point. */
int sim_metrics_sample(np_sim *sim);

#endif
