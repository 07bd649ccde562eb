status --reply fixtures/status/not-a-reply.json
