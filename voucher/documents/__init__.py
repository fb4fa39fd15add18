"""Documents out (forms 14-2, 14-3, 14-4, the application package, decision notices) and in
(e-invoices, the classified-marking check of uploads)."""
