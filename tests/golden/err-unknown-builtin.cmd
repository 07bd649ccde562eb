topology --from builtin:nosuch
