topology --from fixtures/malformed/xl-info-truncated.txt
