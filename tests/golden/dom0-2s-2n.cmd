dom0 --from builtin:2s-2n
