Feature: Notifies
  The sandbox tells the merchant the result of a payment with a notify,
  signed as BJPAY signs it. A reference's prefix picks a scenario of the
  embedded library (PAID-, FLAKY-, DUP-, REORDER-, BADSIG-, ...); any other
  reference stays PENDING until paid, failed or expired.

  Scenario: A paid payment's notify is signed with the merchant's key
    Given a webhook that answers 200
    When the merchant creates a payment with a reference starting "PAID-" that notifies the webhook
    Then the webhook receives 1 notify
    And notify 1 says "PAID"
    And every notify is validly signed with the merchant's key
    And the payment is PAID on the sandbox

  Scenario: A refused notify is retried, freshly signed, until acknowledged
    Given a webhook that answers 500 and then 200
    When the merchant creates a payment with a reference starting "FLAKY-" that notifies the webhook
    Then the webhook receives 2 notifies
    And every notify is validly signed with the merchant's key
    And the sandbox journal shows the outcomes "retrying, delivered"

  @clock
  Scenario: An unpaid payment expires when the sandbox clock passes its expiry
    Given a webhook that answers 200
    When the merchant creates a payment with a reference starting "FEAT-" that notifies the webhook
    And the sandbox clock passes the payment's expiry
    Then the webhook receives 1 notify
    And notify 1 says "EXPIRED"
    And the payment is EXPIRED on the sandbox

  Scenario: A duplicated notify arrives three times, identical
    Given a webhook that answers 200
    When the merchant creates a payment with a reference starting "DUP-" that notifies the webhook
    Then the webhook receives 3 notifies
    And the notifies carry the same body
    And every notify is validly signed with the merchant's key

  Scenario: Out of order: an EXPIRED notify after PAID, while the payment stays PAID
    Given a webhook that answers 200
    When the merchant creates a payment with a reference starting "REORDER-" that notifies the webhook
    Then the webhook receives 2 notifies
    And notify 1 says "PAID"
    And notify 2 says "EXPIRED"
    And the payment is PAID on the sandbox

  Scenario Outline: A deliberately broken notify fails verification (<prefix>)
    Given a webhook that answers 200
    When the merchant creates a payment with a reference starting "<prefix>" that notifies the webhook
    Then the webhook receives 1 notify
    And every notify fails verification with "<check>"

    Examples:
      | prefix    | check              |
      | BADSIG-   | signature-mismatch |
      | WRONGKEY- | signature-mismatch |
      | NOSIG-    | missing-header     |
      | AMOUNT-   | signature-mismatch |
      | REFCHG-   | signature-mismatch |

  Scenario Outline: A replayed-looking notify is validly signed but stamped an hour <direction>
    Given a webhook that answers 200
    When the merchant creates a payment with a reference starting "<prefix>" that notifies the webhook
    Then the webhook receives 1 notify
    And every notify is validly signed but stamped an hour <direction>

    Examples:
      | prefix  | direction |
      | STALE-  | ago       |
      | FUTURE- | ahead     |
