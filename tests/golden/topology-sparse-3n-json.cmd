topology --from builtin:sparse-3n --json
