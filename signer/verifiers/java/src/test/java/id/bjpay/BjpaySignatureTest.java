package id.bjpay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class BjpaySignatureTest {
    // BJPAY's documented reference vector (bjpay-api.md §6).
    static final BjpaySignature BJPAY = new BjpaySignature("test-client-id", "test-client-secret");
    static final String TIMESTAMP = "2024-09-20T20:32:36+07:00";
    static final String SIGNATURE = "f5a8097de89bbe64ff66137c931d19e737f1574995bcada84558d58728e658bf";
    static final Instant NOW = Instant.parse("2024-09-20T13:32:36Z");

    static byte[] body(String amount) {
        return ("{\"referenceNumber\":\"TX_556622123344\",\"paymentCode\":\"GOPAY\",\"totalAmount\":" + amount + ",\"status\":\"PAID\"}")
                .getBytes(StandardCharsets.UTF_8);
    }

    static String verify(String signature, byte[] body, Instant now) {
        Map<String, String> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        if (signature != null) headers.put("x-signature", signature);
        headers.put("X-REQUEST-TIME", TIMESTAMP);
        try {
            return BJPAY.verify(headers::get, body, now).get("status").asText();
        } catch (BjpaySignature.InvalidNotify e) {
            return e.getMessage();
        }
    }

    @ParameterizedTest // what String(x) prints in Node
    @CsvSource({"58000,58000", "58000.0,58000", "15000.5,15000.5", "1e21,1e+21", "1e20,100000000000000000000", "1e-7,1e-7",
        "0.000001,0.000001", "0.30000000000000004,0.30000000000000004", "-0.0,0", "1152921504606846976,1152921504606847000",
        "5e-324,5e-324", "7.120236347223045e-307,7.120236347223045e-307"})
    void jsNumber(double x, String want) {
        assertEquals(want, BjpaySignature.jsNumber(x));
    }

    @Test
    void acceptedWithinTheWindow() {
        for (Instant now : new Instant[] {NOW, NOW.plusSeconds(300), NOW.minusSeconds(300)}) {
            assertEquals("PAID", verify(SIGNATURE, body("15000"), now));
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "                                                                 | 15000   | 0    | X-Signature header is missing",
        "f5a8097de89bbe64ff66137c931d19e737f1574995bcada84558d58728e658bf | 15001   | 0    | :GOPAY:15001\"",
        "f5a8097de89bbe64ff66137c931d19e737f1574995bcada84558d58728e658bf | \"15000\" | 0    | a totalAmount number",
        "f5a8097de89bbe64ff66137c931d19e737f1574995bcada84558d58728e658bf | 15000   | 301  | is 301 s from now",
        "f5a8097de89bbe64ff66137c931d19e737f1574995bcada84558d58728e658bf | 15000   | -301 | is -301 s from now",
    })
    void refusedWithAReason(String signature, String amount, long shift, String reason) {
        String got = verify(signature, body(amount), NOW.plusSeconds(shift));
        assertTrue(got.contains(reason), () -> "got \"" + got + "\", want a reason with \"" + reason + "\"");
    }

    @Test
    void notJson() {
        var e = assertThrows(BjpaySignature.InvalidNotify.class,
                () -> BJPAY.verify(Map.of("X-Signature", SIGNATURE, "X-Request-Time", TIMESTAMP)::get, "{not json".getBytes(StandardCharsets.UTF_8), NOW));
        assertTrue(e.getMessage().startsWith("the body is not JSON"), e.getMessage());
    }
}
