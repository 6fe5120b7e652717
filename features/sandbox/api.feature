Feature: The BJPAY API surface
  A merchant changes only its BJPAY base URL: the sandbox answers the
  documented calls with the documented fields, codes and messages.

  Scenario: Get Available Payment lists the channel catalogue
    When the merchant lists the payment channels
    Then the answer is HTTP 200 with code "OK" and message "Success"
    And the channel "VA-BNI" is listed as active
    And the channel "GOPAY" is listed as active
    And the channel "VA-BCA" is listed as inactive

  Scenario: The documented Create Payment example succeeds
    When the merchant creates the documented example payment
    Then the answer is HTTP 200 with code "OK" and message "Success"
    And the answer's data has "status" equal to "PENDING"
    And the answer's data has "paymentCode" equal to "GOPAY"
    And the answer's data has "paymentDestType" equal to "DEEPLINK"
    And the answer's data has "totalAmount" equal to 58000

  Scenario: Get Invoice returns the created payment
    Given the merchant created the documented example payment
    When the merchant inquires that payment
    Then the answer is HTTP 200 with code "OK" and message "Success"
    And the answer's data has "customerName" equal to "BANGJEFF"
    And the answer's data has "totalReceived" equal to 56840

  Scenario: A reference is used only once
    Given the merchant created the documented example payment
    When the merchant creates the documented example payment again
    Then the answer is HTTP 400 with code "14" and message "Invalid Transaction Reference Number"

  Scenario: An unknown reference is not found
    When the merchant inquires the reference "NEVER-CREATED"
    Then the answer is HTTP 404 with code "14" and message "Invalid Transaction Reference Number"

  Scenario Outline: Invalid create requests get BJPAY's codes
    When the merchant creates the documented example payment with "<field>" set to <value>
    Then the answer is HTTP <status> with code "<code>" and message "<message>"

    Examples:
      | field               | value                 | status | code | message                       |
      | paymentCode         | "BITCOIN"             | 400    | 13   | Invalid Payment Channel       |
      | paymentCode         | "VA-BCA"              | 400    | 13   | Invalid Payment Channel       |
      | referenceNumber     | "has spaces"          | 400    | 14   | Invalid Transaction Reference Number |
      | customerEmail       | "not-an-email"        | 400    | 16   | Invalid Customer Email        |
      | customerPhoneNumber | "abc"                 | 400    | 17   | Invalid Customer Phone Number |
      | items               | []                    | 400    | 15   | Invalid Transaction Item      |
      | items               | [{"name":"x","quantity":0,"amount":58000}] | 400 | 18 | Invalid Quantity |
      | totalAmount         | 10                    | 400    | 12   | Invalid Amount                |
      | totalAmount         | 60000                 | 400    | 12   | Invalid Amount                |
      | currency            | "USD"                 | 400    | 19   | Invalid Currency              |

  Scenario Outline: Bad credentials and times are refused
    Given the merchant sends the header "<header>" as "<value>"
    When the merchant lists the payment channels
    Then the answer is HTTP <status> with code "<code>" and message "<message>"

    Examples:
      | header          | value      | status | code | message                |
      | X-Client-Secret | wrong      | 401    | 01   | Unauthorized           |
      | X-Client-Id     | nobody     | 401    | 01   | Unauthorized           |
      | X-Request-Time  | yesterday  | 400    | 23   | Invalid X-Request-Time |
      | X-Request-Time  | 2020-01-01T00:00:00+07:00 | 400 | 23 | Invalid X-Request-Time |
