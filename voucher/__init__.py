"""Beijing compute-voucher (算力券) programme: rules engine, applications and review."""
