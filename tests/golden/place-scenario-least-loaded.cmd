place --scenario fixtures/guests/scenario-small.json --policy least-loaded
