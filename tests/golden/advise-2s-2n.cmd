advise -w 4:8192 --from builtin:2s-2n
