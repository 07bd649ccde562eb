topology --from builtin:big-32n --json
