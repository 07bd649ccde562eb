topology --from builtin:4s-4n --json
