package scenarios_test

import (
	"fmt"

	"github.com/bjpay/bjpay-sandbox/scenarios"
)

// Parse reports every problem of a scenario file at once, each at the value
// it is about, saying what was found and what is expected.
func ExampleParse() {
	_, err := scenarios.Parse("checkout.yaml", []byte(`scenarios:
  - name: paid-then-expired
    match: {reference: "^LATE-"}
    timeline:
      - {after: 2s, status: PAID}
      - {after: 3s, status: EXPIRED}
    delivery: {variant: tampered}
`))
	fmt.Println(err)
	// Output:
	// checkout.yaml:6:29: scenarios[0].timeline[1].status: the payment is already PAID at 2s (timeline[0]); terminal states are final — use notify: to send a contradictory notification
	// checkout.yaml:7:25: scenarios[0].delivery.variant: expected one of valid, tampered-signature, wrong-key, stale-timestamp, future-timestamp, missing-signature, amount-changed, reference-changed, non-canonical-json, got "tampered"
}

// A user's scenarios come before the library's, and replace library
// scenarios of the same name; the first that matches a payment is used.
func ExampleSelect() {
	user, err := scenarios.Parse("mine.yaml", []byte(`scenarios:
  - name: paid-after-delay
    description: Paid 30 s after creation, for our slower checkout test.
    match: {reference: "^DELAY-"}
    timeline: [{after: 30s, status: PAID}]
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	list := scenarios.Merge(user, scenarios.Library())
	for _, ref := range []string{"DELAY-1", "BADSIG-1", "ORDER-1"} {
		s := scenarios.Select(list, scenarios.Payment{ReferenceNumber: ref, PaymentCode: "GOPAY", Amount: 15000})
		if s == nil {
			fmt.Printf("%s: no scenario\n", ref)
			continue
		}
		fmt.Printf("%s: %s from %s\n", ref, s.Name, s.File)
	}
	// Output:
	// DELAY-1: paid-after-delay from mine.yaml
	// BADSIG-1: bad-signature from (embedded)/defaults.yaml
	// ORDER-1: no scenario
}
