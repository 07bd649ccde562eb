status --reply fixtures/status/bad-reply.json
