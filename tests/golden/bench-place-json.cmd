bench place --host gen:4 --guests 10 --decisions 5 --json
