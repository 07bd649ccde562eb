dom0 --from builtin:epyc-8n --json
