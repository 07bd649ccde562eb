migrate 4194304 --to 0
