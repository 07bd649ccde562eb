topology --from fixtures/malformed/xl-info-huge.txt
