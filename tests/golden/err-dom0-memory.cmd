dom0 --from builtin:small-2n --memory 4X
