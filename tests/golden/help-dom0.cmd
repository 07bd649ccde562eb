help dom0
