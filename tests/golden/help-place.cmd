help place
