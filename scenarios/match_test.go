package scenarios

import (
	"regexp"
	"slices"
	"testing"
)

func ptr(n int64) *int64 { return &n }

// parseOne parses src, a file of one scenario, failing the test on error.
func parseOne(t *testing.T, src string) Scenario {
	t.Helper()
	list, err := Parse("s.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse:\n%v", err)
	}
	if len(list) != 1 {
		t.Fatalf("Parse returned %d scenarios, want 1", len(list))
	}
	return list[0]
}

func TestMatches(t *testing.T) {
	base := Payment{ClientID: "client-a", PaymentCode: "GOPAY", ReferenceNumber: "DELAY-42", Amount: 15000}
	with := func(f func(*Payment)) Payment {
		p := base
		f(&p)
		return p
	}
	for _, tc := range []struct {
		name  string
		match string // the YAML of match:
		p     Payment
		want  bool
	}{
		{"empty match matches anything", "{}", base, true},

		{"clientId equal", "{clientId: client-a}", base, true},
		{"clientId differs", "{clientId: client-b}", base, false},
		{"clientId is exact, not a prefix", "{clientId: client}", base, false},

		{"paymentCode listed", "{paymentCode: [QRIS, GOPAY]}", base, true},
		{"paymentCode not listed", "{paymentCode: [QRIS, VA-BNI]}", base, false},
		{"paymentCode is case-sensitive", "{paymentCode: [gopay]}", base, false},

		{"reference prefix", `{reference: "^DELAY-"}`, base, true},
		{"reference prefix elsewhere", `{reference: "^DELAY-"}`, with(func(p *Payment) { p.ReferenceNumber = "X-DELAY-42" }), false},
		{"reference is searched, not anchored", `{reference: "LAY"}`, base, true},
		{"reference whole", `{reference: "^DELAY-[0-9]+$"}`, base, true},
		{"reference whole, extra text", `{reference: "^DELAY-[0-9]+$"}`, with(func(p *Payment) { p.ReferenceNumber = "DELAY-42x" }), false},

		{"amount at min", "{amount: {min: 15000}}", base, true},
		{"amount below min", "{amount: {min: 15001}}", base, false},
		{"amount at max", "{amount: {max: 15000}}", base, true},
		{"amount above max", "{amount: {max: 14999}}", base, false},
		{"amount inside range", "{amount: {min: 1000, max: 50000}}", base, true},
		{"amount outside range", "{amount: {min: 1000, max: 5000}}", base, false},
		{"amount range of one", "{amount: {min: 15000, max: 15000}}", base, true},

		{"all conditions hold", `{clientId: client-a, paymentCode: [GOPAY], reference: "^DELAY-", amount: {min: 1, max: 20000}}`, base, true},
		{"all but clientId", `{clientId: client-b, paymentCode: [GOPAY], reference: "^DELAY-", amount: {min: 1, max: 20000}}`, base, false},
		{"all but paymentCode", `{clientId: client-a, paymentCode: [QRIS], reference: "^DELAY-", amount: {min: 1, max: 20000}}`, base, false},
		{"all but reference", `{clientId: client-a, paymentCode: [GOPAY], reference: "^PAID-", amount: {min: 1, max: 20000}}`, base, false},
		{"all but amount", `{clientId: client-a, paymentCode: [GOPAY], reference: "^DELAY-", amount: {min: 1, max: 100}}`, base, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := parseOne(t, "scenarios:\n  - name: s\n    match: "+tc.match+"\n    create: {latency: 1ms}\n")
			if got := s.Matches(tc.p); got != tc.want {
				t.Errorf("match %s, payment %+v: Matches = %v, want %v", tc.match, tc.p, got, tc.want)
			}
		})
	}
}

// TestMatchesBuiltInGo covers a Scenario that was never parsed, as the
// sandbox's own tests may build: its reference is compiled on the fly.
func TestMatchesBuiltInGo(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    Match
		ref  string
		want bool
	}{
		{"reference matches", Match{Reference: "^A-"}, "A-1", true},
		{"reference does not match", Match{Reference: "^A-"}, "B-1", false},
		{"invalid reference matches nothing", Match{Reference: "("}, "(", false},
		{"amount bounds", Match{Amount: &AmountRange{Min: ptr(1), Max: ptr(10)}}, "A-1", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Scenario{Name: "s", Match: tc.m}
			if got := s.Matches(Payment{ReferenceNumber: tc.ref, Amount: 5}); got != tc.want {
				t.Errorf("Matches(%q) = %v, want %v", tc.ref, got, tc.want)
			}
		})
	}
}

func TestSelect(t *testing.T) {
	list, err := Parse("s.yaml", []byte(`scenarios:
  - name: gopay-delay
    match: {paymentCode: [GOPAY], reference: "^DELAY-"}
    timeline: [{after: 5s, status: PAID}]
  - name: delay
    match: {reference: "^DELAY-"}
    timeline: [{after: 2s, status: PAID}]
  - name: big
    match: {amount: {min: 1000000}}
    create: {error: "12"}
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		p    Payment
		want string // "" for none
	}{
		{"first match wins", Payment{PaymentCode: "GOPAY", ReferenceNumber: "DELAY-1", Amount: 5_000_000}, "gopay-delay"},
		{"later entry when the first does not match", Payment{PaymentCode: "QRIS", ReferenceNumber: "DELAY-1", Amount: 5_000_000}, "delay"},
		{"last entry", Payment{PaymentCode: "QRIS", ReferenceNumber: "X-1", Amount: 5_000_000}, "big"},
		{"none", Payment{PaymentCode: "QRIS", ReferenceNumber: "X-1", Amount: 10_000}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Select(list, tc.p)
			switch {
			case got == nil && tc.want != "":
				t.Errorf("Select(%+v) = nil, want %s", tc.p, tc.want)
			case got != nil && got.Name != tc.want:
				t.Errorf("Select(%+v) = %s, want %q", tc.p, got.Name, tc.want)
			}
		})
	}
	if got := Select(nil, Payment{}); got != nil {
		t.Errorf("Select(nil) = %s, want nil", got.Name)
	}
	if got := Select(list, Payment{ReferenceNumber: "DELAY-1"}); got != &list[1] {
		t.Error("Select returned a copy, want a pointer into list")
	}
}

func TestMerge(t *testing.T) {
	named := func(names ...string) []Scenario {
		var out []Scenario
		for _, n := range names {
			out = append(out, Scenario{Name: n, Description: "from " + n})
		}
		return out
	}
	user := named("mine", "paid-now")
	user[1].Description = "user's paid-now"
	for _, tc := range []struct {
		name          string
		user, library []Scenario
		want          []string // name: description
	}{
		{"no user scenarios", nil, named("paid-now", "delay"), []string{"paid-now: from paid-now", "delay: from delay"}},
		{"no library", user, nil, []string{"mine: from mine", "paid-now: user's paid-now"}},
		{
			"user first; a user name replaces the library's",
			user, named("paid-now", "delay"),
			[]string{"mine: from mine", "paid-now: user's paid-now", "delay: from delay"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, s := range Merge(tc.user, tc.library) {
				got = append(got, s.Name+": "+s.Description)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Merge:\ngot  %q\nwant %q", got, tc.want)
			}
		})
	}

	// Merge must not write into its arguments' backing arrays.
	u := make([]Scenario, 1, 4)
	u[0].Name = "a"
	lib := named("b")
	_ = Merge(u, lib)
	if spare := u[:2]; spare[1].Name != "" {
		t.Errorf("Merge wrote %q past the end of user", spare[1].Name)
	}
}

func TestVariants(t *testing.T) {
	want := []string{
		"valid", "tampered-signature", "wrong-key", "stale-timestamp", "future-timestamp",
		"missing-signature", "amount-changed", "reference-changed", "non-canonical-json",
	}
	got := Variants()
	if !slices.Equal(got, want) {
		t.Errorf("Variants() = %q, want %q", got, want)
	}
	got[0] = "changed"
	if Variants()[0] != "valid" {
		t.Error("changing the slice Variants returned changed the next call's")
	}
}

// TestLiteralPrefix: the shortcut is taken only for "^literal", and then
// agrees with the regular expression on every reference.
func TestLiteralPrefix(t *testing.T) {
	refs := []string{"", "PAID-1", "PAID-", "paid-1", "XPAID-1", "PAID", "PÄID-1", "DELAY-PAID-1", "PAID-\n", "\nPAID-1", "\xff-1", "\ufffd-1"}
	for _, tt := range []struct {
		expr   string
		prefix string // "" when no shortcut
	}{
		{"^PAID-", "PAID-"},
		{`^PAID\-`, "PAID-"},
		{"^PÄID-", "PÄID-"},
		{"^P", "P"},
		{"PAID-", ""},
		{"(?i)^PAID-", ""},
		{"^(?i)PAID-", ""},
		{"^PAID-.", ""},
		{"^PAID-$", ""},
		{"^PAID-|^DELAY-", ""},
		{"^[P]AID-", "PAID-"}, // a one-character class is a literal
		{"(?m)^PAID-", ""},
		{"^", ""},
		{"^^PAID-", ""},
		// U+FFFD also matches each byte of invalid UTF-8, which a
		// byte-wise prefix would not (found by FuzzParse).
		{"^\uFFFD-", ""},
		{`^\x{FFFD}`, ""},
	} {
		prefix, ok := literalPrefix(tt.expr)
		if prefix != tt.prefix || ok != (tt.prefix != "") {
			t.Errorf("literalPrefix(%q) = %q, %v; want %q", tt.expr, prefix, ok, tt.prefix)
		}
		sc := finish([]Scenario{{Name: "x", Match: Match{Reference: tt.expr}}})[0]
		re := regexp.MustCompile(tt.expr)
		for _, ref := range refs {
			if got, want := sc.Matches(Payment{ReferenceNumber: ref}), re.MatchString(ref); got != want {
				t.Errorf("%q on %q: Matches %v, the regular expression %v", tt.expr, ref, got, want)
			}
		}
	}
}
