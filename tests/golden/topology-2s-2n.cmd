topology --from builtin:2s-2n
