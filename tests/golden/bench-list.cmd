bench --list
