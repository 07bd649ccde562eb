place --from builtin:small-2n
