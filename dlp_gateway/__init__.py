"""dlp-gateway: a data-loss-prevention SMTP gateway."""

__version__ = "0.1.0"
