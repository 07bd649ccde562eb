topology --from builtin:opteron-8n --json
