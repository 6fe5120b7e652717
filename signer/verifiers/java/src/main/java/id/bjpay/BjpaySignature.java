package id.bjpay;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.HexFormat;
import java.util.function.Function;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Verifies BJPAY's X-Signature on a notify, from the raw headers and raw body. In a servlet
 * filter:
 *
 * <pre>{@code
 * byte[] body = request.getInputStream().readAllBytes();
 * try {
 *     JsonNode notify = bjpay.verify(request::getHeader, body, Instant.now());
 *     // mark notify.get("referenceNumber").asText() paid, idempotently
 * } catch (BjpaySignature.InvalidNotify e) {
 *     response.sendError(HttpServletResponse.SC_UNAUTHORIZED, e.getMessage());
 * }
 * }</pre>
 */
public final class BjpaySignature {
    /** How far X-Request-Time may be from now, either way; BJPAY documents none. */
    public static final Duration REPLAY_WINDOW = Duration.ofMinutes(5);

    private static final ObjectMapper JSON = new ObjectMapper();

    private final byte[] key;

    /** The notify is not BJPAY's, or not fresh; the message says why. */
    public static final class InvalidNotify extends Exception {
        InvalidNotify(String reason) {
            super(reason);
        }
    }

    public BjpaySignature(String clientId, String clientSecret) {
        try {
            byte[] md5 = MessageDigest.getInstance("MD5").digest((clientId + ":" + clientSecret).getBytes(StandardCharsets.UTF_8));
            key = HexFormat.of().formatHex(md5).getBytes(StandardCharsets.US_ASCII); // the hex string is the key
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Returns the parsed body of a valid notify and throws InvalidNotify otherwise.
     *
     * @param header looks a header up by name, ignoring case, e.g. {@code request::getHeader}
     */
    public JsonNode verify(Function<String, String> header, byte[] body, Instant now) throws InvalidNotify {
        String signature = header.apply("X-Signature");
        String timestamp = header.apply("X-Request-Time");
        if (signature == null || signature.isEmpty()) throw new InvalidNotify("the X-Signature header is missing");
        if (timestamp == null || timestamp.isEmpty()) throw new InvalidNotify("the X-Request-Time header is missing");
        JsonNode notify;
        try {
            notify = JSON.readTree(body);
        } catch (JsonProcessingException e) {
            throw new InvalidNotify("the body is not JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new UncheckedIOException(e); // cannot happen: the body is in memory
        }
        JsonNode reference = notify.path("referenceNumber"), code = notify.path("paymentCode"), amount = notify.path("totalAmount");
        if (!reference.isTextual() || !code.isTextual() || !amount.isNumber() || !Double.isFinite(amount.doubleValue())) {
            throw new InvalidNotify("the body needs referenceNumber and paymentCode strings and a totalAmount number");
        }
        String payload = payload(timestamp, reference.asText(), code.asText(), amount.doubleValue());
        if (!validSignature(payload, signature)) {
            throw new InvalidNotify("X-Signature does not match the payload " + JSON.valueToTree(payload));
        }
        Duration age;
        try {
            age = Duration.between(OffsetDateTime.parse(timestamp).toInstant(), now);
        } catch (DateTimeParseException e) {
            throw new InvalidNotify("X-Request-Time " + timestamp + " is not an ISO 8601 time such as 2024-09-20T20:32:36+07:00");
        }
        if (age.abs().compareTo(REPLAY_WINDOW) > 0) {
            throw new InvalidNotify("X-Request-Time " + timestamp + " is " + age.toSeconds() + " s from now, outside ±"
                    + REPLAY_WINDOW.toSeconds() + " s: a replay or a wrong clock");
        }
        return notify;
    }

    /** Whether signature is BJPAY's for these values, compared in constant time. */
    public boolean validSignature(String timestamp, String reference, String code, double amount, String signature) {
        return validSignature(payload(timestamp, reference, code, amount), signature);
    }

    private boolean validSignature(String payload, String signature) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            byte[] want = HexFormat.of().formatHex(mac.doFinal(payload.getBytes(StandardCharsets.UTF_8))).getBytes(StandardCharsets.US_ASCII);
            return MessageDigest.isEqual(want, signature.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    static String payload(String timestamp, String reference, String code, double amount) {
        return timestamp + ":" + reference + ":" + code + ":" + jsNumber(amount);
    }

    /**
     * x as JavaScript's String(x) writes it: 58000, 15000.5, 1e+21, 1e-7. That is the fewest
     * digits that read back as x, the nearest such if several, laid out as ECMAScript's
     * Number::toString says. Double.toString does not always give the fewest before Java 19, so
     * they are found here: the nearest decimal of p digits, or at a power of two (where the next
     * double down is nearer) the one on the other side.
     */
    static String jsNumber(double x) {
        if (x == 0) return "0";
        double a = Math.abs(x);
        BigDecimal exact = new BigDecimal(a), d;
        for (int p = 1; ; p++) {
            d = exact.round(new MathContext(p, RoundingMode.HALF_EVEN));
            if (d.doubleValue() == a) break;
            d = exact.round(new MathContext(p, d.compareTo(exact) > 0 ? RoundingMode.FLOOR : RoundingMode.CEILING));
            if (d.doubleValue() == a) break;
        }
        d = d.stripTrailingZeros();
        String s = d.unscaledValue().toString();
        int k = s.length(), n = k - d.scale(); // x = 0.s × 10^n
        String out;
        if (k <= n && n <= 21) out = s + "0".repeat(n - k);
        else if (0 < n && n <= 21) out = s.substring(0, n) + "." + s.substring(n);
        else if (-6 < n && n <= 0) out = "0." + "0".repeat(-n) + s;
        else out = s.charAt(0) + (k > 1 ? "." + s.substring(1) : "") + "e" + (n > 0 ? "+" : "-") + Math.abs(n - 1);
        return x < 0 ? "-" + out : out;
    }
}
