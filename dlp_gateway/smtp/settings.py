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
    max_connections: int = Field(
        200, ge=1,
        description="Concurrent client connections. When all are taken, the session that has waited longest "
        "on an unfinished command (or sends DATA slowest) is told 421 and closed to make room (see shed_after); "
        "only when none can be shed does the new client get 421.",
    )
    max_line_length: int = Field(
        2048, ge=512,
        description="Longest SMTP command line in octets with its CRLF (Postfix's line_length_limit); a longer "
        "one gets 500. Lines of the message (DATA) have no limit of their own: only max_message_size counts.",
    )
    idle_timeout: float = Field(
        300.0, gt=0,
        description="Seconds a client has to send each complete command line (Postfix smtpd_timeout), counted "
        "from when the gateway is ready for it: bytes that do not finish the line do not extend it "
        "(Postfix smtpd_per_record_deadline). Then 421 and the connection is closed.",
    )
    stress_idle_timeout: float = Field(
        10.0, gt=0,
        description="idle_timeout under connection pressure (Postfix's stress-dependent smtpd_timeout: 10s).",
    )
    stress_threshold: float = Field(
        0.8, gt=0, le=1,
        description="Fraction of max_connections in use from which the gateway is under pressure and uses the "
        "stress_ timeouts.",
    )
    data_timeout: float = Field(
        30.0, gt=0,
        description="DATA phase deadline: this many seconds from the 354, plus one second per data_min_rate "
        "bytes received; a client behind it gets 421 and is closed (a body dribbled at a byte a second is "
        "cut off after about this long).",
    )
    stress_data_timeout: float = Field(10.0, gt=0, description="data_timeout under connection pressure.")
    data_min_rate: int = Field(
        1024, ge=1,
        description="Bytes per second that extend the DATA deadline (1 KiB/s: 50 MB may take 14 hours).",
    )
    session_timeout: float = Field(
        3600.0, gt=0,
        description="Longest a connection may last; after it the client gets 421 when it is next waited for.",
    )
    shed_after: float = Field(
        1.0, ge=0,
        description="When every connection is taken, a session that has waited this many seconds for its "
        "current command (or is in DATA behind data_min_rate) may be shed (421) to admit a new client.",
    )
    max_unfinished_data_bytes: int = Field(
        64 * 1024 * 1024, ge=1024 * 1024,
        description="Bytes of DATA still being received (no final dot yet), all sessions together. A message "
        "whose bytes would pass it is read on and discarded, then answered 451 4.3.1 (try later), so clients "
        "that never finish cannot fill memory.",
    )
    bare_line_endings: Literal["normalize", "reject"] = Field(
        "normalize",
        description="A bare CR or bare LF in DATA (RFC 5321 forbids both; a next hop may read one as the end "
        "of a line and `<CR>.<CR>` as the end of DATA: SMTP smuggling). normalize: turn each into CRLF "
        "(Postfix smtpd_forbid_bare_newline = normalize); reject: refuse the message with 550 5.6.11.",
    )
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
    line_length_limit: int = Field(
        999, ge=0,
        description="Longest line sent to the next hop, without CRLF (Postfix smtp_line_length_limit). A longer "
        "line is folded by inserting CRLF and a space, as Postfix does, so a next hop holding to RFC 5322's "
        "998 can take it; shorter lines pass unchanged. 0: never fold (the next hop takes long lines).",
    )
