bench --scenario fixtures/malformed/sim-scenario-unknown-key.json
