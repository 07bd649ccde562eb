topology --format nosuch --from builtin:small-2n
