@recommended
Feature: The merchant handles notifies robustly
  Beyond the signature, a careful merchant treats notifies as what they
  are: delivered at least once, possibly out of order, possibly replayed
  by someone who captured one. A merchant may apply a notify after it has
  acknowledged it (from a queue, say): the order is read until it matches,
  or through merchant.orderStatus.within when it must stay as it was.

  Background:
    Given a pending payment of 58000 rupiah via VA-BNI that the merchant knows of

  Scenario Outline: A duplicate PAID notify is acknowledged again and credits the order once (<when>)
    When the sandbox sends a valid PAID notify for it and the same notify again <when>
    Then the merchant acknowledges both
    And the merchant's order becomes paid, if its status can be read
    And the merchant has credited the order once, if its credits can be read

    Examples:
      | when                |
      | as BJPAY retries it |
      | at the same time    |

  Scenario Outline: A paid order stays paid when a later <status> notify arrives
    Given the sandbox sends a valid PAID notify for it
    And the merchant acknowledges it
    And the merchant's order becomes paid, if its status can be read
    When the sandbox sends a valid <status> notify for it
    Then the merchant's order stays paid, if its status can be read

    Examples:
      | status  |
      | EXPIRED |
      | FAILED  |

  Scenario: A replayed notify older than the replay window is refused
    When the sandbox sends a validly signed PAID notify for it stamped a minute before the replay window
    Then the merchant rejects it
    And the merchant's order stays as it was, if its status can be read

  Scenario: A notify stamped further ahead than the replay window is refused
    A merchant that checks only the age of X-Request-Time accepts a
    notify stamped in the future, and so a captured one for as long as the
    stamp is ahead.

    When the sandbox sends a validly signed PAID notify for it stamped a minute after the replay window
    Then the merchant rejects it
    And the merchant's order stays as it was, if its status can be read

  Scenario: A notify whose JSON is formatted differently is accepted
    The signature covers values, not bytes: member order, whitespace and
    \u escapes do not matter.

    When the sandbox sends a PAID notify for it signed as "non-canonical-json"
    Then the merchant acknowledges it

  Scenario: The merchant answers within the sandbox's timeout
    When the sandbox sends a valid PAID notify for it
    Then the merchant answered within the sandbox's timeout

  @checkout
  Scenario: A validly signed notify with another amount than the order's does not pay it
    The amount is a business check: a merchant may refuse the notify, or
    acknowledge it and leave the order as it was. Money must not move.

    When the sandbox sends a validly signed PAID notify for it with a totalAmount 1000 rupiah higher
    Then the merchant rejects it or leaves the order as it was, if its status can be read
