place --from builtin:small-2n --guest fixtures/malformed/guest-mismatched-tag.xml
