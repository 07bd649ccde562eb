place --from builtin:2s-2n --guest fixtures/guests/web-virt-install.xml --guest fixtures/guests/db.json
