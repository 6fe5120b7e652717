package id.bjpay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.util.Map;
import java.util.TreeMap;

/** Drives BjpaySignature for signer/verifiers/run: vectors | fixtures NOW ID SECRET. */
public final class Run {
    private static int passed, failed;

    private static void fail(String what, String why) {
        failed++;
        System.out.println("FAIL " + what + ": " + why);
    }

    public static void main(String[] args) throws Exception {
        ObjectMapper json = new ObjectMapper();
        var stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        if (args.length == 1 && args[0].equals("vectors")) {
            String line;
            for (int n = 1; (line = stdin.readLine()) != null; n++) {
                if (line.isBlank()) continue;
                JsonNode v;
                boolean valid;
                try {
                    v = json.readTree(line);
                    var bjpay = new BjpaySignature(v.get("client_id").asText(), v.get("client_secret").asText());
                    valid = bjpay.validSignature(v.get("timestamp").asText(), v.get("referenceNumber").asText(), v.get("paymentCode").asText(),
                            v.get("amount").doubleValue(), v.get("signature").asText());
                } catch (IOException | NullPointerException e) { // not JSON, or a field missing
                    fail("line " + n, "not a signature vector: " + e.getMessage());
                    continue;
                }
                if (valid) passed++;
                else fail("line " + n, "signature does not match for amount " + v.get("amount"));
            }
        } else if (args.length == 4 && args[0].equals("fixtures")) {
            var now = OffsetDateTime.parse(args[1]).toInstant();
            var bjpay = new BjpaySignature(args[2], args[3]);
            JsonNode fixtures;
            try {
                fixtures = json.readTree(stdin);
            } catch (IOException e) {
                System.err.println("stdin is not the JSON array `bjpay-sandbox fixture` writes: " + e.getMessage());
                System.exit(2);
                return;
            }
            for (JsonNode f : fixtures) {
                Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER); // as HttpServletRequest.getHeader
                f.get("headers").fields().forEachRemaining(h -> headers.put(h.getKey(), h.getValue().asText()));
                String verdict = "accept", why = "accepted";
                try {
                    bjpay.verify(headers::get, f.get("body").asText().getBytes(StandardCharsets.UTF_8), now);
                } catch (BjpaySignature.InvalidNotify e) {
                    verdict = "reject";
                    why = "rejected (" + e.getMessage() + ")";
                }
                if (verdict.equals(f.get("expect").asText())) passed++;
                else fail(f.get("name").asText(), why + "; expected " + f.get("expect").asText());
            }
        } else {
            System.err.println("usage: Run vectors < vectors.jsonl | Run fixtures NOW CLIENT_ID CLIENT_SECRET < fixtures.json");
            System.exit(2);
        }
        System.out.println(passed + " passed, " + failed + " failed");
        System.exit(failed > 0 ? 1 : 0);
    }
}
