topology --from builtin:small-2n extra
