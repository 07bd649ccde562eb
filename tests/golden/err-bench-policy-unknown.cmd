bench --policy xl42
