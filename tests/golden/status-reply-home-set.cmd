status --reply fixtures/status/linux-home-set.json
