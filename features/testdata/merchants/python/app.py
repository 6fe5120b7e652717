"""A Flask shop taking BJPAY payments: the way many Python teams write it.

    PORT=3000 BJPAY_BASE_URL=http://127.0.0.1:18080 python3 app.py

POST /checkout {"amount": 58000, "paymentCode": "VA-BNI"} creates a payment,
POST /webhook/bjpay receives BJPAY's notifies, GET /orders/<ref> shows an
order; "credited" is what the order put in the customer's wallet.

QUEUE=1 acknowledges a verified notify at once and applies it half a second
later from a queue, as gateways advise. MISTAKE=<name> switches on one
realistic mistake (see MISTAKES) for the conformance suite to catch.
"""

import hashlib
import hmac
import json
import os
import queue
import secrets
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime

from flask import Flask, jsonify, request

BASE_URL = os.environ.get("BJPAY_BASE_URL", "http://127.0.0.1:18080")
CLIENT_ID = os.environ.get("BJPAY_CLIENT_ID", "2f9d6a0e-1c3b-4d5e-8f70-123456789abc")
CLIENT_SECRET = os.environ.get("BJPAY_CLIENT_SECRET", "merchant-secret")
KEY = hashlib.md5(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).hexdigest()
REPLAY_WINDOW = 300  # seconds either side of our clock

MISTAKES = {
    "wallet-every-paid": "credits the wallet on every PAID notify, duplicates included",
    "amount-as-string": "compares totalAmount with the order's amount as stored, the string '58000.00'",
    "ignore-status": "marks the order paid for any verified notify, EXPIRED and FAILED too",
    "past-only-window": "refuses old X-Request-Time but not one stamped in the future",
}
MISTAKE = os.environ.get("MISTAKE", "")
if MISTAKE and MISTAKE not in MISTAKES:
    raise SystemExit(f"MISTAKE={MISTAKE!r}; expected one of {', '.join(MISTAKES)}")
QUEUE = os.environ.get("QUEUE") == "1"

app = Flask(__name__)
lock = threading.Lock()
orders = {}  # referenceNumber -> order
wallet = {"balance": 0}
jobs = queue.Queue()


@app.post("/checkout")
def checkout():
    body = request.get_json(silent=True) or {}
    amount, code = body.get("amount"), body.get("paymentCode")
    if not isinstance(amount, int) or amount <= 0 or not code:
        return jsonify(error='expected {"amount": 58000, "paymentCode": "VA-BNI"}'), 400
    ref = "ORDER-" + secrets.token_hex(6)
    me = request.host_url.rstrip("/")
    payment = {
        "paymentCode": code, "referenceNumber": ref, "customerName": "Budi Santoso",
        "customerEmail": "budi@example.com", "customerPhoneNumber": "6281234567890",
        "finishNotifyUrl": f"{me}/webhook/bjpay", "finishReturnUrl": f"{me}/orders/{ref}",
        "totalAmount": amount, "items": [{"name": f"Order {ref}", "quantity": 1, "amount": amount}],
    }
    req = urllib.request.Request(
        f"{BASE_URL}/api/merchant/transaction/create", data=json.dumps(payment).encode(), method="POST",
        headers={"Content-Type": "application/json", "X-Client-Id": CLIENT_ID, "X-Client-Secret": CLIENT_SECRET,
                 "X-Request-Time": datetime.now().astimezone().isoformat(timespec="seconds")})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            created = json.load(resp)
    except urllib.error.HTTPError as e:
        return jsonify(error=f"BJPAY refused the payment: HTTP {e.code} {e.read().decode(errors='replace')}"), 502
    except OSError as e:
        return jsonify(error=f"BJPAY unreachable: {e}"), 502
    with lock:
        orders[ref] = {"referenceNumber": ref, "amount": amount, "status": "PENDING", "credited": 0}
    return jsonify(referenceNumber=ref, status="PENDING", paymentDest=created["data"]["paymentDest"]), 201


@app.get("/orders/<ref>")
def order(ref):
    with lock:
        o = orders.get(ref)
        return (jsonify(o), 200) if o else (jsonify(error="no such order"), 404)


@app.post("/webhook/bjpay")
def notify():
    raw = request.get_data()
    try:
        n = json.loads(raw)
    except ValueError:
        return jsonify(error="body is not JSON"), 400
    problem = verify(request.headers, n)
    if problem:
        app.logger.warning("notify refused: %s", problem)
        return jsonify(error=problem), 401
    if QUEUE:
        jobs.put((time.monotonic() + 0.5, n))  # a consumer picks it up half a second later
        return jsonify(result="queued")
    status, answer = apply(n)
    return jsonify(answer), status


def verify(headers, n):
    """Checks X-Signature and the age of X-Request-Time; returns what is wrong, or None."""
    stamp = headers.get("X-Request-Time", "")
    try:
        age = time.time() - datetime.fromisoformat(stamp).timestamp()
    except ValueError:
        return f"X-Request-Time {stamp!r} is not ISO 8601"
    if age > REPLAY_WINDOW or (age < -REPLAY_WINDOW and MISTAKE != "past-only-window"):
        return f"X-Request-Time {stamp} is {age:.0f} s from our clock"
    try:
        payload = f"{stamp}:{n['referenceNumber']}:{n['paymentCode']}:{n['totalAmount']}"
    except (KeyError, TypeError):
        return "the notify lacks referenceNumber, paymentCode or totalAmount"
    want = hmac.new(KEY.encode(), payload.encode(), hashlib.sha256).hexdigest()
    return None if hmac.compare_digest(want, headers.get("X-Signature", "")) else "X-Signature does not verify"


def apply(n):
    """Applies a verified notify to its order; returns the HTTP status and answer."""
    with lock:
        o = orders.get(n["referenceNumber"])
        if o is None:
            return 200, {"result": "unknown order, ignored"}
        if not amount_matches(o, n["totalAmount"]):
            return 400, {"error": f"totalAmount {n['totalAmount']} is not the order's {o['amount']}"}
        if n["status"] == "PAID" or MISTAKE == "ignore-status":
            if o["status"] != "PAID" or MISTAKE == "wallet-every-paid":
                wallet["balance"] += o["amount"]
                o["credited"] += o["amount"]
            o["status"] = "PAID"
        elif o["status"] == "PENDING":
            o["status"] = n["status"]
        return 200, {"result": "ok", "status": o["status"]}


def amount_matches(o, amount):
    if MISTAKE == "amount-as-string":
        return str(amount) == f"{o['amount']:.2f}"  # as the database hands it back
    return amount == o["amount"]


def worker():
    while True:
        due, n = jobs.get()
        time.sleep(max(0.0, due - time.monotonic()))
        status, answer = apply(n)
        if status != 200:
            app.logger.warning("queued notify not applied: %s", answer)


if __name__ == "__main__":
    threading.Thread(target=worker, daemon=True).start()
    app.run(host="127.0.0.1", port=int(os.environ.get("PORT", "3000")), threaded=True)
