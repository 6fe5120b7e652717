package scenarios

import (
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestLibraryParses guards Library's panic: the embedded file must parse,
// and every entry must be usable from its description alone.
func TestLibraryParses(t *testing.T) {
	data, err := libraryFS.ReadFile("library/defaults.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(LibraryFile, data); err != nil {
		t.Fatalf("the embedded library does not parse:\n%v", err)
	}
	for _, s := range Library() {
		if s.Description == "" {
			t.Errorf("%s has no description", s.Name)
		}
		if s.File != LibraryFile {
			t.Errorf("%s: File = %q, want %q", s.Name, s.File, LibraryFile)
		}
		if _, ok := prefixOf(s); !ok {
			t.Errorf("%s: match is %+v, want only a reference of the form ^PREFIX-", s.Name, s.Match)
		}
	}
}

// prefixOf returns the reference prefix a library scenario is selected by.
func prefixOf(s Scenario) (string, bool) {
	m := s.Match
	p, ok := strings.CutPrefix(m.Reference, "^")
	ok = ok && strings.HasSuffix(p, "-") && !strings.ContainsAny(p, `\.[]()*+?{}|$^`)
	return p, ok && m.ClientID == "" && m.PaymentCode == nil && m.Amount == nil
}

// TestLibraryPrefixes checks that each library scenario is selected by its
// own prefix and by no other's.
func TestLibraryPrefixes(t *testing.T) {
	lib := Library()
	for _, s := range lib {
		prefix, _ := prefixOf(s)
		t.Run(prefix, func(t *testing.T) {
			p := Payment{ClientID: "c", PaymentCode: "GOPAY", ReferenceNumber: prefix + "1", Amount: 15000}
			got := Select(lib, p)
			if got == nil || got.Name != s.Name {
				t.Fatalf("Select(%q) = %v, want %s", p.ReferenceNumber, nameOf(got), s.Name)
			}
			for _, other := range lib {
				if other.Name != s.Name && other.Matches(p) {
					t.Errorf("%q also matches %s", p.ReferenceNumber, other.Name)
				}
			}
			// The prefix must start the reference.
			p.ReferenceNumber = "X" + prefix + "1"
			if got := Select(lib, p); got != nil {
				t.Errorf("Select(%q) = %s, want nil", p.ReferenceNumber, got.Name)
			}
		})
	}
}

func nameOf(s *Scenario) string {
	if s == nil {
		return "nil"
	}
	return s.Name
}

// TestLibraryBehaviour pins what the documented prefixes do, as the README
// promises it.
func TestLibraryBehaviour(t *testing.T) {
	paid := []Step{{After: 0, Status: StatusPaid}}
	for _, tc := range []struct {
		ref      string
		name     string
		create   Create
		timeline []Step
		check    func(Delivery) bool // nil: the default delivery
	}{
		{"PAID-1", "paid-now", Create{}, paid, nil},
		{"DELAY-1", "paid-after-delay", Create{}, []Step{{After: 2 * time.Second, Status: StatusPaid}}, nil},
		{"EXPIRE-1", "expired", Create{}, []Step{{After: time.Second, Status: StatusExpired}}, nil},
		{"FAIL-1", "failed", Create{}, []Step{{After: time.Second, Status: StatusFailed}}, nil},
		{"FLAKY-1", "flaky-merchant", Create{}, paid, func(d Delivery) bool {
			return slices.Equal(d.Retries, []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second})
		}},
		{"DUP-1", "duplicate-notify", Create{}, paid, func(d Delivery) bool { return d.Duplicates == 2 }},
		{"REORDER-1", "out-of-order", Create{}, []Step{{Status: StatusPaid}, {After: time.Second, Notify: StatusExpired}}, nil},
		{"BADSIG-1", "bad-signature", Create{}, paid, broken(VariantTamperedSignature)},
		{"WRONGKEY-1", "wrong-key", Create{}, paid, broken(VariantWrongKey)},
		{"STALE-1", "stale-timestamp", Create{}, paid, broken(VariantStaleTimestamp)},
		{"FUTURE-1", "future-timestamp", Create{}, paid, broken(VariantFutureTimestamp)},
		{"NOSIG-1", "missing-signature", Create{}, paid, broken(VariantMissingSignature)},
		{"AMOUNT-1", "amount-changed", Create{}, paid, broken(VariantAmountChanged)},
		{"REFCHG-1", "reference-changed", Create{}, paid, broken(VariantReferenceChanged)},
		{"NONCANON-1", "non-canonical-json", Create{}, paid, func(d Delivery) bool {
			return d.Variant == VariantNonCanonicalJSON && len(d.Retries) == 5
		}},
		{"ERR01-1", "error-01", Create{Error: "01"}, nil, nil},
		{"ERR12-1", "error-12", Create{Error: "12"}, nil, nil},
		{"ERR13-1", "error-13", Create{Error: "13"}, nil, nil},
		{"ERR23-1", "error-23", Create{Error: "23"}, nil, nil},
		{"SLOW-1", "slow-create", Create{Latency: 2 * time.Second}, paid, nil},
		{"DOWN-1", "gateway-down", Create{Status: 503}, nil, nil},
		{"DROP-1", "connection-dropped", Create{Drop: true}, nil, nil},
		{"X-1", "", Create{}, nil, nil},
		{"paid-1", "", Create{}, nil, nil}, // prefixes are case-sensitive
	} {
		t.Run(tc.ref, func(t *testing.T) {
			s := Select(Library(), Payment{ReferenceNumber: tc.ref, PaymentCode: "GOPAY", Amount: 15000})
			if nameOf(s) != tc.name && !(s == nil && tc.name == "") {
				t.Fatalf("Select(%q) = %s, want %q", tc.ref, nameOf(s), tc.name)
			}
			if s == nil {
				return
			}
			got := stripPositions(*s)
			if !reflect.DeepEqual(got.Create, tc.create) {
				t.Errorf("create = %+v, want %+v", got.Create, tc.create)
			}
			if !reflect.DeepEqual(got.Timeline, tc.timeline) {
				t.Errorf("timeline = %+v, want %+v", got.Timeline, tc.timeline)
			}
			check := tc.check
			if check == nil {
				check = func(d Delivery) bool {
					want := DefaultDelivery()
					return d.Timeout == want.Timeout && slices.Equal(d.Retries, want.Retries) &&
						d.Delay == 0 && d.Duplicates == 0 && d.Variant == VariantValid
				}
			}
			if !check(got.Delivery) {
				t.Errorf("delivery = %+v, not as documented", got.Delivery)
			}
		})
	}
}

// broken is the delivery of a broken-variant library scenario: that variant,
// and no retry, since a retry would only repeat the same broken notification.
func broken(variant string) func(Delivery) bool {
	return func(d Delivery) bool {
		return d.Variant == variant && d.Retries != nil && len(d.Retries) == 0
	}
}

// TestLibraryCoversEveryVariant keeps the library in step with Variants:
// each broken variant has a scenario to try it with.
func TestLibraryCoversEveryVariant(t *testing.T) {
	used := map[string]bool{}
	for _, s := range Library() {
		used[s.Delivery.Variant] = true
	}
	for _, v := range Variants() {
		if !used[v] {
			t.Errorf("no library scenario uses variant %s", v)
		}
	}
}

// TestLibraryConcurrent calls Library and Select from many goroutines, for
// the race detector: the library is parsed once and shared.
func TestLibraryConcurrent(t *testing.T) {
	var wg sync.WaitGroup
	names := make([]string, 8)
	for i := range names {
		wg.Go(func() {
			names[i] = nameOf(Select(Library(), Payment{ReferenceNumber: "DELAY-1"}))
		})
	}
	wg.Wait()
	for i, n := range names {
		if n != "paid-after-delay" {
			t.Errorf("goroutine %d selected %s, want paid-after-delay", i, n)
		}
	}
}
