"""The form a browser without a valid token gets (with 401): it shows no data at all."""

from __future__ import annotations

from fastapi.responses import HTMLResponse

__all__ = ["login_page"]

_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>quantstrata live: sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<style>
body{{margin:0;min-height:100vh;display:grid;place-items:center;background:#0e1117;
color:#d7dce5;font:15px system-ui,-apple-system,"Segoe UI",sans-serif}}
form{{background:#161b24;border:1px solid #273040;border-radius:10px;padding:28px 32px;
width:320px;display:grid;gap:12px}}
h1{{font-size:18px;margin:0 0 4px}} p{{margin:0;color:#8b95a7;font-size:13px}}
input{{padding:9px 10px;border-radius:6px;border:1px solid #273040;background:#0e1117;
color:#d7dce5}} button{{padding:9px;border:0;border-radius:6px;background:#3b82f6;color:#fff;
font-weight:600;cursor:pointer}} .error{{color:#f87171}}
</style></head>
<body><form method="post" action="/login">
<h1>quantstrata live</h1>
<p>Enter the dashboard token of this run.</p>
{message}
<input type="password" name="token" autocomplete="off" aria-label="token" autofocus>
<button type="submit">Open dashboard</button>
</form></body></html>
"""


def login_page(*, failed: bool) -> HTMLResponse:
    """Return the sign-in form with status 401 (noting a wrong token when ``failed``)."""
    message = '<p class="error">Wrong token.</p>' if failed else ""
    return HTMLResponse(
        _PAGE.format(message=message),
        status_code=401,
        headers={"Content-Security-Policy": _POLICY, "WWW-Authenticate": "Bearer"},
    )
