topology --from fixtures/malformed/xl-info-wrong-count.txt
