@recommended
Feature: The merchant handles notifies robustly
  Beyond the signature, a careful merchant treats notifies as what they
  are: delivered at least once, possibly out of order, possibly replayed
  by someone who captured one.

  Background:
    Given a pending payment of 58000 rupiah via VA-BNI that the merchant knows of

  Scenario: A duplicate notify is acknowledged again and pays the order once
    When the sandbox sends a valid PAID notify for it
    And the sandbox sends the same notify again
    Then the merchant acknowledges it
    And the merchant's order is paid, if its status can be read

  Scenario Outline: A paid order stays paid when a later <status> notify arrives
    Given the sandbox sends a valid PAID notify for it
    And the merchant acknowledges it
    When the sandbox sends a valid <status> notify for it
    Then the merchant's order is paid, if its status can be read

    Examples:
      | status  |
      | EXPIRED |
      | FAILED  |

  Scenario: A replayed notify older than the replay window is refused
    When the sandbox sends a validly signed PAID notify for it stamped a minute before the replay window
    Then the merchant rejects it
    And the merchant's order is not paid, if its status can be read

  Scenario: A notify whose JSON is formatted differently is accepted
    The signature covers values, not bytes: member order, whitespace and
    \u escapes do not matter.

    When the sandbox sends a PAID notify for it signed as "non-canonical-json"
    Then the merchant acknowledges it

  Scenario: The merchant answers within the sandbox's timeout
    When the sandbox sends a valid PAID notify for it
    Then the merchant answered within the sandbox's timeout

  @checkout
  Scenario: A validly signed notify with another amount than the order's is refused
    When the sandbox sends a validly signed PAID notify for it with a totalAmount 1000 rupiah higher
    Then the merchant rejects it
    And the merchant's order is not paid, if its status can be read
