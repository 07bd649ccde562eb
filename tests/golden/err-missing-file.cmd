topology --from fixtures/does-not-exist.txt
