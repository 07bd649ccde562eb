bench --scenario no-such-scenario
