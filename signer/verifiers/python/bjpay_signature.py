"""Verify BJPAY's X-Signature on a notify, from the raw headers and raw body.

FastAPI::

    @app.post("/webhook/bjpay")
    async def bjpay_notify(request: Request):
        try:
            notify = verify_notify(request.headers, await request.body(), CLIENT_ID, CLIENT_SECRET)
        except InvalidNotify as e:
            raise HTTPException(status_code=401, detail=str(e))
        ...  # mark notify["referenceNumber"] paid, idempotently

Django: ``verify_notify(request.headers, request.body, CLIENT_ID, CLIENT_SECRET)``.
"""

import hashlib
import hmac
import json
import sys
import time
from datetime import datetime
from decimal import Decimal

REPLAY_WINDOW = 300  # seconds either way; BJPAY documents none


class InvalidNotify(ValueError):
    """The notify is not BJPAY's, or not fresh; str(e) says why."""


def verify_notify(headers, body, client_id, client_secret, now=None, window=REPLAY_WINDOW):
    """Return the parsed body of a valid notify; raise InvalidNotify otherwise.

    headers: any mapping of header names (of any case) to values, such as
    request.headers; body: the raw bytes or text; now: Unix seconds.
    """
    h = {k.lower(): v for k, v in headers.items()}
    signature, timestamp = h.get("x-signature"), h.get("x-request-time")
    if not signature:
        raise InvalidNotify("the X-Signature header is missing")
    if not timestamp:
        raise InvalidNotify("the X-Request-Time header is missing")
    try:
        notify = json.loads(body)
        reference, code, amount = notify["referenceNumber"], notify["paymentCode"], notify["totalAmount"]
    except (ValueError, TypeError, KeyError) as e:
        raise InvalidNotify(f"the body is not a JSON notify with referenceNumber, paymentCode and totalAmount: {e!r}")
    if not (isinstance(reference, str) and isinstance(code, str)
            and type(amount) in (int, float) and abs(amount) <= sys.float_info.max):
        raise InvalidNotify("referenceNumber and paymentCode must be strings and totalAmount a finite number")
    if not valid_signature(client_id, client_secret, timestamp, reference, code, amount, signature):
        raise InvalidNotify(f"X-Signature does not match the payload {payload(timestamp, reference, code, amount)!r}")
    try:
        sent = datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise InvalidNotify(f"X-Request-Time {timestamp!r} is not an ISO 8601 time such as 2024-09-20T20:32:36+07:00")
    age = (time.time() if now is None else now) - sent
    if abs(age) > window:
        raise InvalidNotify(f"X-Request-Time {timestamp} is {age:+.0f} s from now, outside ±{window} s: a replay or a wrong clock")
    return notify


def valid_signature(client_id, client_secret, timestamp, reference, code, amount, signature):
    """Whether signature is BJPAY's for these values, compared in constant time."""
    key = hashlib.md5(f"{client_id}:{client_secret}".encode()).hexdigest()
    want = hmac.new(key.encode(), payload(timestamp, reference, code, amount).encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(want, signature)


def payload(timestamp, reference, code, amount):
    return f"{timestamp}:{reference}:{code}:{js_number(amount)}"


def js_number(x):
    """x as JavaScript's String(x) writes it: 58000, 15000.5, 1e+21, 1e-7.

    json.loads gives an int for 58000 and a float for 58000.0; JavaScript has
    one Number type, so ints are rounded to the nearest float first. repr()
    gives the shortest digits that round-trip, as JavaScript does; only the
    layout (where the point goes, when to use an exponent) differs.
    """
    x = float(x)
    if x == 0:
        return "0"
    _, digits, exp = Decimal(repr(abs(x))).as_tuple()
    n = len(digits) + exp  # x = 0.digits × 10**n
    s = "".join(map(str, digits)).rstrip("0")
    k = len(s)
    if k <= n <= 21:
        out = s + "0" * (n - k)
    elif 0 < n <= 21:
        out = s[:n] + "." + s[n:]
    elif -6 < n <= 0:
        out = "0." + "0" * -n + s
    else:
        out = s[0] + ("." + s[1:] if k > 1 else "") + "e" + ("+" if n > 0 else "-") + str(abs(n - 1))
    return "-" + out if x < 0 else out
