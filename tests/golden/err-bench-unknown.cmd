bench nosuch
