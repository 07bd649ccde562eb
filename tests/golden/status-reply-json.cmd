status --reply fixtures/status/libvirt-helpers.json --json
