topology --list
