"""The demo: a working system on one machine (`voucher demo`). The top of the layers: it may
import every app, and no app imports it (docs/architecture.md)."""
