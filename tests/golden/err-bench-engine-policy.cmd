bench engine --policy nosuch
