advise -w 1.5 --from builtin:sparse-3n
