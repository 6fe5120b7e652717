// Verifies BJPAY's X-Signature on a notify, from the raw headers and raw body.
//
// ASP.NET Core:
//
//   var bjpay = new BjpaySignature(config["Bjpay:ClientId"], config["Bjpay:ClientSecret"]);
//   app.MapPost("/webhook/bjpay", async (HttpRequest request) => {
//       var body = await new StreamReader(request.Body).ReadToEndAsync();
//       if (!bjpay.TryVerify(name => request.Headers[name], body, DateTimeOffset.UtcNow, out var notify, out var reason))
//           return Results.Text(reason, statusCode: 401);
//       // mark (string)notify["referenceNumber"] paid, idempotently
//       return Results.Ok();
//   });
using System;
using System.Globalization;
using System.Linq;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

public sealed class BjpaySignature
{
    /// <summary>How far X-Request-Time may be from now, either way; BJPAY documents none.</summary>
    public static readonly TimeSpan ReplayWindow = TimeSpan.FromMinutes(5);

    static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    readonly byte[] key;

    public BjpaySignature(string clientId, string clientSecret)
    {
        using (var md5 = MD5.Create())
            key = Encoding.ASCII.GetBytes(Hex(md5.ComputeHash(Encoding.UTF8.GetBytes(clientId + ":" + clientSecret)))); // the hex string is the key
    }

    /// <summary>Whether the notify is valid; if not, reason says why.</summary>
    /// <param name="header">looks a header up by name, ignoring case, e.g. <c>name => request.Headers[name]</c></param>
    public bool TryVerify(Func<string, string> header, string rawBody, DateTimeOffset now, out JObject notify, out string reason)
    {
        notify = null;
        reason = Check(header("X-Signature"), header("X-Request-Time"), rawBody, now, out var parsed);
        if (reason != null) return false;
        notify = parsed;
        return true;
    }

    string Check(string signature, string timestamp, string rawBody, DateTimeOffset now, out JObject notify)
    {
        notify = null;
        if (string.IsNullOrEmpty(signature)) return "the X-Signature header is missing";
        if (string.IsNullOrEmpty(timestamp)) return "the X-Request-Time header is missing";
        try
        {
            notify = JObject.Load(new JsonTextReader(new System.IO.StringReader(rawBody)) { DateParseHandling = DateParseHandling.None });
        }
        catch (JsonReaderException e)
        {
            return "the body is not a JSON object: " + e.Message;
        }
        var reference = notify["referenceNumber"];
        var code = notify["paymentCode"];
        var amount = notify["totalAmount"];
        if (reference?.Type != JTokenType.String || code?.Type != JTokenType.String || !TryNumber(rawBody, amount, out var x))
            return "the body needs referenceNumber and paymentCode strings and a totalAmount number";
        var payload = Payload(timestamp, (string)reference, (string)code, x);
        if (!ValidSignature(payload, signature))
            return "X-Signature does not match the payload " + JsonConvert.ToString(payload);
        if (!DateTimeOffset.TryParseExact(timestamp, "yyyy-MM-dd'T'HH:mm:ssK", Inv, DateTimeStyles.None, out var sent))
            return "X-Request-Time " + timestamp + " is not an ISO 8601 time such as 2024-09-20T20:32:36+07:00";
        var age = now - sent;
        if (age.Duration() > ReplayWindow)
            return $"X-Request-Time {timestamp} is {age.TotalSeconds:0} s from now, outside ±{ReplayWindow.TotalSeconds} s: a replay or a wrong clock";
        return null;
    }

    /// <summary>Whether signature is BJPAY's for these values, compared in constant time.</summary>
    public bool ValidSignature(string timestamp, string reference, string code, double amount, string signature) =>
        ValidSignature(Payload(timestamp, reference, code, amount), signature);

    bool ValidSignature(string payload, string signature)
    {
        byte[] want;
        using (var hmac = new HMACSHA256(key))
            want = Encoding.ASCII.GetBytes(Hex(hmac.ComputeHash(Encoding.UTF8.GetBytes(payload))));
        var got = Encoding.UTF8.GetBytes(signature);
        var diff = want.Length ^ got.Length;
        for (var i = 0; i < want.Length && i < got.Length; i++) diff |= want[i] ^ got[i];
        return diff == 0;
    }

    static string Payload(string timestamp, string reference, string code, double amount) =>
        timestamp + ":" + reference + ":" + code + ":" + JsNumber(amount);

    static string Hex(byte[] bytes) => string.Concat(bytes.Select(b => b.ToString("x2")));

    // JavaScript's numbers, exactly. On .NET Core 3.0 and later, double.Parse and
    // ToString("R") are correctly rounded and shortest, and JsNumber could lay out
    // ToString("R")'s digits; on Mono and .NET Framework they are not, so both
    // directions are done here in integers.

    /// <summary>
    /// The number a JSON token holds, as JSON.parse reads it: the double nearest its
    /// literal. Newtonsoft.Json converts through double.Parse, so the literal is read back
    /// from the body (the token's line information says where it ends).
    /// </summary>
    public static bool TryNumber(string json, JToken token, out double x)
    {
        x = 0;
        if (token == null || (token.Type != JTokenType.Integer && token.Type != JTokenType.Float)) return false;
        var info = (IJsonLineInfo)token;
        var line = json.Split('\n')[info.LineNumber - 1];
        int end = Math.Min(info.LinePosition, line.Length), start;
        while (end > 0 && "0123456789.eE+-".IndexOf(line[end - 1]) < 0) end--;
        for (start = end; start > 0 && "0123456789.eE+-".IndexOf(line[start - 1]) >= 0; start--) { }
        var m = System.Text.RegularExpressions.Regex.Match(line.Substring(start, end - start), @"^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$");
        if (!m.Success) return false;
        var d = BigInteger.Parse(m.Groups[2].Value + m.Groups[3].Value, Inv);
        var t = (m.Groups[4].Success ? int.Parse(m.Groups[4].Value, Inv) : 0) - m.Groups[3].Value.Length;
        if (!double.TryParse(d + "E" + t, NumberStyles.Float, Inv, out var near) || double.IsInfinity(near))
            return false; // beyond a double: Infinity in JavaScript
        // near is within a unit in the last place of the nearest double: find which.
        x = d.IsZero ? 0 : new[] { 0L, 1, -1 }.Select(step => BitConverter.Int64BitsToDouble(BitConverter.DoubleToInt64Bits(near) + step)).First(c => ReadsAs(d, t, c));
        if (m.Groups[1].Length > 0) x = -x;
        return true;
    }

    /// <summary>x as JavaScript's String(x) writes it: 58000, 15000.5, 1e+21, 1e-7.</summary>
    public static string JsNumber(double x)
    {
        if (x == 0) return "0";
        var a = Math.Abs(x);
        var (m, e) = Decompose(a);
        BigInteger d;
        int t;
        // Grids of 10^t, coarse to fine: on the first with a point that reads back as a, the
        // nearest such point has the fewest digits, as ECMAScript's Number::toString wants.
        for (t = (int)Math.Floor(Math.Log10(a)) + 1; ; t--)
        {
            var num = (m << Math.Max(e, 0)) * BigInteger.Pow(10, Math.Max(-t, 0));
            var den = BigInteger.Pow(10, Math.Max(t, 0)) << Math.Max(-e, 0);
            d = BigInteger.DivRem(num, den, out var r);
            var up = 2 * r > den || (2 * r == den && !d.IsEven);
            if (up) d += 1;
            if (!d.IsZero && ReadsAs(d, t, a)) break;
            d += up ? -1 : 1; // at a power of two the interval below is half as wide
            if (!d.IsZero && ReadsAs(d, t, a)) break;
        }
        var s = d.ToString(Inv);
        var k = s.TrimEnd('0').Length;
        var n = s.Length + t; // x = 0.s × 10^n
        s = s.Substring(0, k);
        string o;
        if (k <= n && n <= 21) o = s + new string('0', n - k);
        else if (0 < n && n <= 21) o = s.Substring(0, n) + "." + s.Substring(n);
        else if (-6 < n && n <= 0) o = "0." + new string('0', -n) + s;
        else o = s[0] + (k > 1 ? "." + s.Substring(1) : "") + "e" + (n > 0 ? "+" : "-") + Math.Abs(n - 1);
        return x < 0 ? "-" + o : o;
    }

    /// <summary>a = m × 2^e, exactly.</summary>
    static (BigInteger m, int e) Decompose(double a)
    {
        var bits = BitConverter.DoubleToInt64Bits(a);
        var exp = (int)(bits >> 52) & 0x7FF;
        var m = bits & 0xFFFFFFFFFFFFFL;
        return exp == 0 ? ((BigInteger)m, -1074) : ((BigInteger)(m | 1L << 52), exp - 1075);
    }

    /// <summary>Whether d × 10^t reads back as a > 0: lies within half a unit of a's last place, ties to even.</summary>
    static bool ReadsAs(BigInteger d, int t, double a)
    {
        var (m, e) = Decompose(a);
        // In quarters of a unit: a is 4m; the next double up is 4 further, the next down 4
        // nearer, or 2 at a power of two.
        var lo = 4 * m - (m == BigInteger.One << 52 && e > -1074 ? 1 : 2);
        var hi = 4 * m + 2;
        var v = d * BigInteger.Pow(10, Math.Max(t, 0)) << Math.Max(2 - e, 0);
        var unit = BigInteger.Pow(10, Math.Max(-t, 0)) << Math.Max(e - 2, 0);
        int cl = v.CompareTo(lo * unit), ch = v.CompareTo(hi * unit);
        return m.IsEven ? cl >= 0 && ch <= 0 : cl > 0 && ch < 0;
    }
}
