"""Settings of the inbound server and outbound delivery. Every limit is named and has a safe default."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ServerSettings(BaseModel):
    """Inbound SMTP (the `smtp:` section of the config file)."""

    model_config = ConfigDict(extra="forbid")

    listen: str = Field("127.0.0.1:10025", description="HOST:PORT to accept mail on.")
    hostname: str | None = Field(None, description="Name in the greeting and trace headers; default: the machine's FQDN.")
    max_message_size: int = Field(50 * 1024 * 1024, ge=1024, description="SIZE advertised in EHLO; larger messages get 552.")
    max_recipients: int = Field(1000, ge=1, description="RCPT TO beyond this get 452.")
    max_connections: int = Field(200, ge=1, description="Concurrent client connections; beyond it new ones get 421.")
    max_line_length: int = Field(998 + 2, ge=512, description="Longest line of DATA (RFC 5321: 1000 with CRLF); a longer line gets 500.")
    idle_timeout: float = Field(300.0, gt=0, description="Seconds a client may stay silent before it is disconnected (421).")
    event_loop: Literal["uvloop", "asyncio"] = Field(
        "uvloop",
        description="Event loop of the gateway process: uvloop (libuv; about 15% less CPU per message, "
        "bench/relay_bench.py) or Python's own asyncio loop.",
    )
    allowed_networks: list[str] = Field(
        default_factory=lambda: ["127.0.0.0/8", "::1/128"],
        description="Client networks allowed to relay; others get 554.",
    )
    tls_cert: str | None = Field(None, description="PEM certificate for STARTTLS.")
    tls_key: str | None = Field(None, description="PEM private key for STARTTLS.")
    require_tls: bool = Field(False, description="Refuse MAIL before STARTTLS (530).")


class DeliverySettings(BaseModel):
    """Outbound delivery to the next hop (the `delivery:` section)."""

    model_config = ConfigDict(extra="forbid")

    upstream: str | None = Field(None, description="HOST:PORT of the next hop; none: deliver into <data-dir>/maildir.")
    tls: Literal["none", "opportunistic", "required", "verified"] = Field(
        "opportunistic", description="STARTTLS policy towards the next hop."
    )
    tls_ca_file: str | None = Field(None, description="CA bundle for `verified`; default: the system store.")
    tls_server_name: str | None = Field(None, description="Name to verify the next hop's certificate against; default: its host.")
    connect_timeout: float = Field(30.0, gt=0, description="Seconds to connect and greet.")
    command_timeout: float = Field(60.0, gt=0, description="Seconds to wait for any reply, DATA included.")
    pool_size: int = Field(8, ge=1, description="Connections kept open to the next hop.")
    pool_idle_seconds: float = Field(30.0, gt=0, description="Close a pooled connection idle this long.")
    messages_per_connection: int = Field(100, ge=1, description="Open a new connection after this many messages.")
