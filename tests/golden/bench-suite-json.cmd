bench --scenario fixtures/sim/tiny.json --json
