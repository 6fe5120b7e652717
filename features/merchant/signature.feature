@required
Feature: The merchant verifies BJPAY's notify signature
  BJPAY signs every notify: X-Signature is the lowercase hex HMAC-SHA256,
  under the key md5(clientId:clientSecret), of
  "X-Request-Time:referenceNumber:paymentCode:totalAmount". A merchant must
  verify it before trusting a notify, whatever status it announces,
  acknowledge a valid one with 2xx, and refuse anything else with a non-2xx
  status at once: verifying needs nothing but the request. A refused notify
  must leave the order as it was.

  Background:
    Given a pending payment of 58000 rupiah via VA-BNI that the merchant knows of

  Scenario: A valid PAID notify is acknowledged and pays the order
    When the sandbox sends a valid PAID notify for it
    Then the merchant acknowledges it
    And the merchant's order becomes paid, if its status can be read

  Scenario Outline: A notify that BJPAY did not sign as sent is refused (<variant>)
    When the sandbox sends a PAID notify for it signed as "<variant>"
    Then the merchant rejects it
    And the merchant's order stays as it was, if its status can be read

    Examples:
      | variant            |
      | tampered-signature |
      | wrong-key          |
      | missing-signature  |
      | amount-changed     |
      | reference-changed  |

  Scenario Outline: A forged <status> notify is refused and leaves the order as it was (<variant>)
    A merchant that verifies only PAID notifies lets anyone cancel a
    pending order with an unsigned EXPIRED or FAILED one.

    When the sandbox sends a <status> notify for it signed as "<variant>"
    Then the merchant rejects it
    And the merchant's order stays as it was, if its status can be read

    Examples:
      | status  | variant            |
      | EXPIRED | wrong-key          |
      | EXPIRED | missing-signature  |
      | EXPIRED | tampered-signature |
      | FAILED  | wrong-key          |
      | FAILED  | missing-signature  |
      | FAILED  | tampered-signature |
