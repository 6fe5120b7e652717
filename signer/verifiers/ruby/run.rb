# frozen_string_literal: true

# Drives bjpay_signature.rb for signer/verifiers/run: vectors | fixtures NOW ID SECRET.
require_relative "bjpay_signature"

passed = failed = 0
fail = lambda do |what, why|
  failed += 1
  puts "FAIL #{what}: #{why}"
end

case ARGV
in ["vectors"]
  $stdin.each_line.with_index(1) do |line, n|
    next if line.strip.empty?

    v = JSON.parse(line)
    if BjpaySignature.valid_signature?(*v.values_at("client_id", "client_secret", "timestamp", "referenceNumber", "paymentCode", "amount", "signature"))
      passed += 1
    else
      fail.("line #{n}", "signature does not match for amount #{v["amount"].inspect}")
    end
  rescue JSON::ParserError, TypeError, NoMethodError, ArgumentError => e
    fail.("line #{n}", "not a signature vector: #{e.message}")
  end
in ["fixtures", now, client_id, client_secret]
  fixtures = begin
    JSON.parse($stdin.read)
  rescue JSON::ParserError => e
    warn "stdin is not the JSON array `bjpay-sandbox fixture` writes: #{e.message}"
    exit 2
  end
  fixtures.each do |f|
    verdict, why = begin
      BjpaySignature.verify!(f["headers"], f["body"], client_id:, client_secret:, now: Time.iso8601(now))
      %w[accept accepted]
    rescue BjpaySignature::Invalid => e
      ["reject", "rejected (#{e.message})"]
    end
    verdict == f["expect"] ? passed += 1 : fail.(f["name"], "#{why}; expected #{f["expect"]}")
  end
else
  warn "usage: run.rb vectors < vectors.jsonl | run.rb fixtures NOW CLIENT_ID CLIENT_SECRET < fixtures.json"
  exit 2
end
puts "#{passed} passed, #{failed} failed"
exit(failed.zero? ? 0 : 1)
