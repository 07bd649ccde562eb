advise -w 40:600000 --from builtin:2s-2n
