place --from builtin:small-2n --guest fixtures/malformed/guest-unterminated-list.cfg
