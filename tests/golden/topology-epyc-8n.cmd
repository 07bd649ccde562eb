topology --from builtin:epyc-8n
