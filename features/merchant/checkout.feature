@checkout
Feature: End to end through the merchant's checkout
  The merchant creates the payment against the sandbox through its own
  checkout, the sandbox settles it and notifies, and the merchant's order
  follows.

  @required
  Scenario: A payment made through the checkout becomes paid
    Given the merchant has started a payment of 58000 rupiah via VA-BNI through its checkout
    When the customer pays it
    Then the sandbox delivers its PAID notify
    And the merchant acknowledges it
    And the merchant's order becomes paid, if its status can be read

  @recommended @clock
  Scenario: An unpaid payment that expires never becomes paid
    Given the merchant has started a payment of 58000 rupiah via QRIS through its checkout
    When the sandbox clock passes its expiry
    Then the sandbox delivers its EXPIRED notify
    And the merchant acknowledges it
    And the merchant's order stays unpaid, if its status can be read
