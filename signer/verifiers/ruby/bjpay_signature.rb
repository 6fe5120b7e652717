# frozen_string_literal: true

# Verify BJPAY's X-Signature on a notify, from the raw headers and raw body.
#
# Rails:
#
#   def bjpay_notify
#     notify = BjpaySignature.verify!(request.headers, request.raw_post,
#                                     client_id: ENV.fetch("BJPAY_CLIENT_ID"), client_secret: ENV.fetch("BJPAY_CLIENT_SECRET"))
#     # mark notify["referenceNumber"] paid, idempotently
#     head :ok
#   rescue BjpaySignature::Invalid => e
#     render plain: e.message, status: :unauthorized
#   end
require "json"
require "openssl"
require "time"

module BjpaySignature
  REPLAY_WINDOW = 300 # seconds either way; BJPAY documents none

  # The notify is not BJPAY's, or not fresh; the message says why.
  class Invalid < StandardError; end

  module_function

  # Returns the parsed body of a valid notify; raises Invalid otherwise.
  # headers: anything with [] or each over header names of any case.
  def verify!(headers, body, client_id:, client_secret:, now: Time.now, window: REPLAY_WINDOW)
    header = ->(name) { headers[name] || headers.find { |k, _| k.to_s.casecmp?(name) }&.last }
    signature = header.("X-Signature").to_s
    timestamp = header.("X-Request-Time").to_s
    raise Invalid, "the X-Signature header is missing" if signature.empty?
    raise Invalid, "the X-Request-Time header is missing" if timestamp.empty?

    notify = JSON.parse(body)
    reference, code, amount = notify.values_at("referenceNumber", "paymentCode", "totalAmount") if notify.is_a?(Hash)
    unless reference.is_a?(String) && code.is_a?(String) && amount.is_a?(Numeric) && amount.to_f.finite?
      raise Invalid, "the body needs referenceNumber and paymentCode strings and a totalAmount number"
    end
    unless valid_signature?(client_id, client_secret, timestamp, reference, code, amount, signature)
      raise Invalid, "X-Signature does not match the payload #{payload(timestamp, reference, code, amount).inspect}"
    end

    age = now - Time.iso8601(timestamp)
    raise Invalid, "X-Request-Time #{timestamp} is #{age.round} s from now, outside ±#{window} s: a replay or a wrong clock" if age.abs > window

    notify
  rescue JSON::ParserError => e
    raise Invalid, "the body is not JSON: #{e.message}"
  rescue ArgumentError
    raise Invalid, "X-Request-Time #{timestamp} is not an ISO 8601 time such as 2024-09-20T20:32:36+07:00"
  end

  # Whether signature is BJPAY's for these values, compared in constant time.
  def valid_signature?(client_id, client_secret, timestamp, reference, code, amount, signature)
    key = OpenSSL::Digest::MD5.hexdigest("#{client_id}:#{client_secret}")
    want = OpenSSL::HMAC.hexdigest("SHA256", key, payload(timestamp, reference, code, amount))
    OpenSSL.fixed_length_secure_compare(want, signature) if want.bytesize == signature.bytesize
  end

  def payload(timestamp, reference, code, amount)
    "#{timestamp}:#{reference}:#{code}:#{js_number(amount)}"
  end

  # x as JavaScript's String(x) writes it: 58000, 15000.5, 1e+21, 1e-7.
  # JSON.parse gives an Integer for 58000 and a Float for 58000.0;
  # JavaScript has one Number type, so it is a Float first. Float#to_s
  # gives the shortest digits that round-trip, as JavaScript does; only the
  # layout (where the point goes, when to use an exponent) differs.
  def js_number(x)
    x = Float(x)
    return "0" if x.zero?

    int, frac, exp = x.abs.to_s.match(/\A(\d+)\.(\d+)(?:e([+-]\d+))?\z/).captures
    digits = (int + frac).sub(/\A0+/, "")
    n = int.length + exp.to_i - (int + frac).length + digits.length # x = 0.digits × 10**n
    s = digits.sub(/0+\z/, "")
    k = s.length
    out = if k <= n && n <= 21 then s + "0" * (n - k)
          elsif n.positive? && n <= 21 then "#{s[0, n]}.#{s[n..]}"
          elsif n > -6 && n <= 0 then "0.#{"0" * -n}#{s}"
          else "#{s[0]}#{".#{s[1..]}" if k > 1}e#{n.positive? ? "+" : "-"}#{(n - 1).abs}"
          end
    x.negative? ? "-#{out}" : out
  end
end
