bench engine --nodes 2 --cpus-per-node 4 --guests 6 --seconds 1 --seed 2 --json
