advise -w 2.5:1024x --from builtin:2s-2n
