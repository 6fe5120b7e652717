package scenarios_test

import (
	"fmt"
	"time"

	"github.com/bjpay/bjpay-sandbox/scenarios"
)

// Decode reports every problem in the file at once, in file order, each at
// the line and column of the offending key or value.
func ExampleDecode() {
	type channel struct {
		At       scenarios.Positions `yaml:"-"`
		Code     string              `yaml:"code"`
		Lifetime time.Duration       `yaml:"lifetime"`
		Min      int64               `yaml:"min"`
	}
	var c channel
	err := scenarios.Decode("channels.yaml", []byte("code: VA\nlifetime: 15\nmin: ten\nmax: 100\n"), &c)
	fmt.Println(err)
	// Output:
	// channels.yaml:2:11: lifetime: expected a duration such as "90s", "5m" or "24h", got the number 15; add a unit, e.g. "15s"
	// channels.yaml:3:6: min: expected an integer, got "ten"
	// channels.yaml:4:1: unknown key "max"; expected one of: code, lifetime, min
}
