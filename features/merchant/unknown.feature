@recommended
Feature: The merchant acknowledges notifies for orders it does not know
  A validly signed notify may name a reference the merchant never created
  (another system's payment, a test from the portal, an order since
  deleted). There is nothing to do, and a refusal only makes BJPAY retry it
  for hours.

  Scenario: A valid notify for an order the merchant never created is acknowledged
    Given a pending payment of 58000 rupiah via VA-BNI that the merchant never created
    When the sandbox sends a valid PAID notify for it
    Then the merchant acknowledges it
