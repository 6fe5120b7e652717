@required
Feature: The merchant verifies BJPAY's notify signature
  BJPAY signs every notify: X-Signature is the lowercase hex HMAC-SHA256,
  under the key md5(clientId:clientSecret), of
  "X-Request-Time:referenceNumber:paymentCode:totalAmount". A merchant must
  verify it before trusting a notify, acknowledge a valid one with 2xx, and
  refuse anything else with a non-2xx status. A refused notify must leave
  the order as it was.

  Background:
    Given a pending payment of 58000 rupiah via VA-BNI that the merchant knows of

  Scenario: A valid PAID notify is acknowledged and pays the order
    When the sandbox sends a valid PAID notify for it
    Then the merchant acknowledges it
    And the merchant's order is paid, if its status can be read

  Scenario Outline: A notify that BJPAY did not sign as sent is refused (<variant>)
    When the sandbox sends a PAID notify for it signed as "<variant>"
    Then the merchant rejects it
    And the merchant's order is not paid, if its status can be read

    Examples:
      | variant            |
      | tampered-signature |
      | wrong-key          |
      | missing-signature  |
      | amount-changed     |
      | reference-changed  |
