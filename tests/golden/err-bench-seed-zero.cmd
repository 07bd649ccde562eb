bench suite --scenario fixtures/sim/tiny.json --policy none --policy xl42-hard --seed 0
