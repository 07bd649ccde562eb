advise -w 20:100000 --from builtin:epyc-8n
