"""Drives bjpay_signature for signer/verifiers/run: vectors | fixtures NOW ID SECRET."""

import json
import sys
from datetime import datetime

from bjpay_signature import InvalidNotify, valid_signature, verify_notify


def main(args):
    passed = failed = 0

    def fail(what, why):
        nonlocal failed
        failed += 1
        print(f"FAIL {what}: {why}")

    if args == ["vectors"]:
        for n, line in enumerate(sys.stdin, 1):
            if not line.strip():
                continue
            try:
                v = json.loads(line)
                valid = valid_signature(v["client_id"], v["client_secret"], v["timestamp"], v["referenceNumber"],
                                        v["paymentCode"], v["amount"], v["signature"])
            except (ValueError, KeyError, TypeError) as e:
                fail(f"line {n}", f"not a signature vector: {e!r}")
                continue
            if valid:
                passed += 1
            else:
                fail(f"line {n}", f"signature does not match for amount {v['amount']!r}")
    elif len(args) == 4 and args[0] == "fixtures":
        now = datetime.fromisoformat(args[1].replace("Z", "+00:00")).timestamp()
        try:
            fixtures = json.load(sys.stdin)
        except ValueError as e:
            print(f"stdin is not the JSON array `bjpay-sandbox fixture` writes: {e}", file=sys.stderr)
            return 2
        for f in fixtures:
            try:
                verify_notify(f["headers"], f["body"], args[2], args[3], now=now)
                verdict, why = "accept", "accepted"
            except InvalidNotify as e:
                verdict, why = "reject", f"rejected ({e})"
            if verdict == f["expect"]:
                passed += 1
            else:
                fail(f["name"], f"{why}; expected {f['expect']}")
    else:
        print("usage: run.py vectors < vectors.jsonl | run.py fixtures NOW CLIENT_ID CLIENT_SECRET < fixtures.json", file=sys.stderr)
        return 2
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
