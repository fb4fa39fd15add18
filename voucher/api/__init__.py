"""The platform API. Nothing imports this package but the URL configuration."""
