import json

import pytest

from bjpay_signature import InvalidNotify, js_number, valid_signature, verify_notify

# BJPAY's documented reference vector (bjpay-api.md §6).
DOC = dict(client_id="test-client-id", client_secret="test-client-secret", timestamp="2024-09-20T20:32:36+07:00",
           reference="TX_556622123344", code="GOPAY", amount=15000,
           signature="f5a8097de89bbe64ff66137c931d19e737f1574995bcada84558d58728e658bf")
NOW = 1726839156  # 2024-09-20T20:32:36+07:00


@pytest.mark.parametrize("x, want", [  # what String(x) prints in Node
    (58000, "58000"), (58000.0, "58000"), (15000.5, "15000.5"), (1e21, "1e+21"), (1e20, "100000000000000000000"),
    (1e-7, "1e-7"), (0.000001, "0.000001"), (0.1 + 0.2, "0.30000000000000004"), (-0.0, "0"), (2**60, "1152921504606847000"),
    (9007199254740993, "9007199254740992"), (5e-324, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"),
])
def test_js_number(x, want):
    assert js_number(x) == want


def test_reference_vector():
    d = DOC
    assert valid_signature(d["client_id"], d["client_secret"], d["timestamp"], d["reference"], d["code"], d["amount"], d["signature"])
    assert not valid_signature(d["client_id"], d["client_secret"], d["timestamp"], d["reference"], d["code"], 15000.01, d["signature"])


def notify(**change):
    headers = {"x-signature": DOC["signature"], "X-Request-Time": DOC["timestamp"]}  # any case, as frameworks give them
    body = {"referenceNumber": DOC["reference"], "paymentCode": DOC["code"], "totalAmount": 15000, "status": "PAID"}
    headers.update(change.pop("headers", {}))
    body.update(change)
    return headers, json.dumps(body).encode()


@pytest.mark.parametrize("headers, body, now, reason", [
    (*notify(headers={"x-signature": ""}), NOW, "X-Signature header is missing"),
    (*notify(totalAmount=15001), NOW, "does not match the payload '2024-09-20T20:32:36+07:00:TX_556622123344:GOPAY:15001'"),
    (*notify(totalAmount="15000"), NOW, "totalAmount a finite number"),
    (notify()[0], b"{not json", NOW, "not a JSON notify"),
    (*notify(), NOW + 301, "is +301 s from now"),
    (*notify(), NOW - 301, "is -301 s from now"),
])
def test_refused_with_a_reason(headers, body, now, reason):
    with pytest.raises(InvalidNotify, match=None) as e:
        verify_notify(headers, body, DOC["client_id"], DOC["client_secret"], now=now)
    assert reason in str(e.value)


@pytest.mark.parametrize("now", [NOW, NOW + 300, NOW - 300])
def test_accepted_within_the_window(now):
    assert verify_notify(*notify(), DOC["client_id"], DOC["client_secret"], now=now)["status"] == "PAID"
