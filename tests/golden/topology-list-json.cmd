topology --list --json
