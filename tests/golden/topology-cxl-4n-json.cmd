topology --from builtin:cxl-4n --json
