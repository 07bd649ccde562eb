topology --from fixtures/xl-info/lab-doc-4n-2c.txt --json
