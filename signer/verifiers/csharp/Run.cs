// Drives BjpaySignature for signer/verifiers/run: vectors | fixtures NOW ID SECRET.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

static class Run
{
    static int passed, failed;

    static void Fail(string what, string why)
    {
        failed++;
        Console.WriteLine("FAIL " + what + ": " + why);
    }

    // Strings stay strings: Newtonsoft.Json would otherwise turn timestamps into DateTime.
    static JToken Parse(string json) =>
        JToken.ReadFrom(new JsonTextReader(new StringReader(json)) { DateParseHandling = DateParseHandling.None });

    static int Main(string[] args)
    {
        Console.OutputEncoding = new System.Text.UTF8Encoding(false);
        var stdin = new StreamReader(Console.OpenStandardInput(), new System.Text.UTF8Encoding(false));
        if (args.Length == 1 && args[0] == "vectors")
        {
            string line;
            for (var n = 1; (line = stdin.ReadLine()) != null; n++)
            {
                if (line.Trim().Length == 0) continue;
                JObject v;
                try
                {
                    v = (JObject)Parse(line);
                }
                catch (Exception e) when (e is JsonException || e is InvalidCastException)
                {
                    Fail("line " + n, "not a signature vector: " + e.Message);
                    continue;
                }
                if (!BjpaySignature.TryNumber(line, v["amount"], out var amount)) Fail("line " + n, "amount is not a number");
                else if (new BjpaySignature((string)v["client_id"], (string)v["client_secret"]).ValidSignature(
                        (string)v["timestamp"], (string)v["referenceNumber"], (string)v["paymentCode"], amount, (string)v["signature"])) passed++;
                else Fail("line " + n, "signature does not match for amount " + v["amount"]);
            }
        }
        else if (args.Length == 4 && args[0] == "fixtures")
        {
            var now = DateTimeOffset.Parse(args[1], CultureInfo.InvariantCulture);
            var bjpay = new BjpaySignature(args[2], args[3]);
            JToken fixtures;
            try
            {
                fixtures = Parse(stdin.ReadToEnd());
            }
            catch (JsonException e)
            {
                Console.Error.WriteLine("stdin is not the JSON array `bjpay-sandbox fixture` writes: " + e.Message);
                return 2;
            }
            foreach (var f in fixtures)
            {
                var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                foreach (var h in (JObject)f["headers"]) headers[h.Key] = (string)h.Value;
                var accepted = bjpay.TryVerify(name => headers.TryGetValue(name, out var v) ? v : null, (string)f["body"], now, out _, out var reason);
                if ((accepted ? "accept" : "reject") == (string)f["expect"]) passed++;
                else Fail((string)f["name"], (accepted ? "accepted" : "rejected (" + reason + ")") + "; expected " + f["expect"]);
            }
        }
        else
        {
            Console.Error.WriteLine("usage: Run.exe vectors < vectors.jsonl | Run.exe fixtures NOW CLIENT_ID CLIENT_SECRET < fixtures.json");
            return 2;
        }
        Console.WriteLine(passed + " passed, " + failed + " failed");
        return failed > 0 ? 1 : 0;
    }
}
