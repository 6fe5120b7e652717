# frozen_string_literal: true

require "minitest/autorun"
require_relative "bjpay_signature"

class BjpaySignatureTest < Minitest::Test
  # BJPAY's documented reference vector (bjpay-api.md §6).
  ID = "test-client-id"
  SECRET = "test-client-secret"
  TIMESTAMP = "2024-09-20T20:32:36+07:00"
  SIGNATURE = "f5a8097de89bbe64ff66137c931d19e737f1574995bcada84558d58728e658bf"
  NOW = Time.iso8601(TIMESTAMP)

  def body(**change)
    JSON.generate({ referenceNumber: "TX_556622123344", paymentCode: "GOPAY", totalAmount: 15_000, status: "PAID" }.merge(change))
  end

  def verify(headers: { "x-signature" => SIGNATURE, "X-Request-Time" => TIMESTAMP }, body: self.body, now: NOW)
    BjpaySignature.verify!(headers, body, client_id: ID, client_secret: SECRET, now:)
  end

  def test_js_number # what String(x) prints in Node
    { 58_000 => "58000", 58_000.0 => "58000", 15_000.5 => "15000.5", 1e21 => "1e+21", 1e20 => "100000000000000000000",
      1e-7 => "1e-7", 0.000001 => "0.000001", 0.1 + 0.2 => "0.30000000000000004", -0.0 => "0",
      2**60 => "1152921504606847000", 5e-324 => "5e-324" }.each do |x, want|
      assert_equal want, BjpaySignature.js_number(x), "js_number(#{x.inspect})"
    end
  end

  def test_accepted_within_the_window
    [NOW, NOW + 300, NOW - 300].each { |now| assert_equal "PAID", verify(now:)["status"] }
  end

  def test_refused_with_a_reason
    {
      -> { verify(headers: { "X-Request-Time" => TIMESTAMP }) } => "X-Signature header is missing",
      -> { verify(body: body(totalAmount: 15_001)) } => ':GOPAY:15001"',
      -> { verify(body: body(totalAmount: "15000")) } => "a totalAmount number",
      -> { verify(body: "{not json") } => "the body is not JSON",
      -> { verify(now: NOW + 301) } => "is 301 s from now",
      -> { verify(now: NOW - 301) } => "is -301 s from now",
    }.each do |call, reason|
      assert_includes assert_raises(BjpaySignature::Invalid, &call).message, reason
    end
  end
end
