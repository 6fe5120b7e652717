// NUnit tests (Debian's nunit-console runs them under Mono).
using System;
using System.Collections.Generic;
using NUnit.Framework;

[TestFixture]
public class BjpaySignatureTest
{
    // BJPAY's documented reference vector (bjpay-api.md §6).
    static readonly BjpaySignature Bjpay = new BjpaySignature("test-client-id", "test-client-secret");
    const string Timestamp = "2024-09-20T20:32:36+07:00";
    const string Signature = "f5a8097de89bbe64ff66137c931d19e737f1574995bcada84558d58728e658bf";
    static readonly DateTimeOffset Now = DateTimeOffset.Parse(Timestamp);

    static string Body(string amount) =>
        "{\"referenceNumber\":\"TX_556622123344\",\"paymentCode\":\"GOPAY\",\"totalAmount\":" + amount + ",\"status\":\"PAID\"}";

    static string Verify(string signature, string body, DateTimeOffset now)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["x-request-time"] = Timestamp };
        if (signature != null) headers["X-SIGNATURE"] = signature;
        return Bjpay.TryVerify(name => headers.TryGetValue(name, out var v) ? v : null, body, now, out var notify, out var reason)
            ? (string)notify["status"] : reason;
    }

    // What String(x) prints in Node, for the literal x in a body.
    [TestCase("58000", "58000")] [TestCase("58000.0", "58000")] [TestCase("15000.5", "15000.5")] [TestCase("1e21", "1e+21")]
    [TestCase("1e20", "100000000000000000000")] [TestCase("1e-7", "1e-7")] [TestCase("0.000001", "0.000001")]
    [TestCase("0.30000000000000004", "0.30000000000000004")] [TestCase("-0", "0")] [TestCase("1152921504606846976", "1152921504606847000")]
    [TestCase("5e-324", "5e-324")] [TestCase("7.120236347223045e-307", "7.120236347223045e-307")]
    [TestCase("0.000007501271963119508", "0.000007501271963119508")] // Mono's double.Parse is a unit off here
    public void JsNumber(string literal, string want)
    {
        var json = "{\"totalAmount\": " + literal + " }";
        Assert.IsTrue(BjpaySignature.TryNumber(json, Newtonsoft.Json.Linq.JObject.Parse(json)["totalAmount"], out var x));
        Assert.AreEqual(want, BjpaySignature.JsNumber(x));
    }

    [TestCase(0)] [TestCase(300)] [TestCase(-300)]
    public void AcceptedWithinTheWindow(int shift) => Assert.AreEqual("PAID", Verify(Signature, Body("15000"), Now.AddSeconds(shift)));

    [TestCase(null, "15000", 0, "X-Signature header is missing")]
    [TestCase(Signature, "15001", 0, ":GOPAY:15001\"")]
    [TestCase(Signature, "\"15000\"", 0, "a totalAmount number")]
    [TestCase(Signature, "1e400", 0, "1e400' is not a valid number")] // Infinity in JavaScript
    [TestCase(Signature, "15000", 301, "is 301 s from now")]
    [TestCase(Signature, "15000", -301, "is -301 s from now")]
    public void RefusedWithAReason(string signature, string amount, int shift, string reason) =>
        StringAssert.Contains(reason, Verify(signature, Body(amount), Now.AddSeconds(shift)));

    [Test]
    public void NotJson() => StringAssert.StartsWith("the body is not a JSON object", Verify(Signature, "{not json", Now));
}
