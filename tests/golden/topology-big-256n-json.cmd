topology --from builtin:big-256n --json
