ksm --merge-across-nodes 2
