package scenarios

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"
	"unicode/utf8"
)

// Payment is what matching looks at: the fields of a create request that a
// scenario can select on.
type Payment struct {
	ClientID        string
	PaymentCode     string
	ReferenceNumber string
	Amount          int64
}

// Matches reports whether every condition of s.Match holds for p.
func (s *Scenario) Matches(p Payment) bool {
	m := &s.Match
	if m.ClientID != "" && m.ClientID != p.ClientID {
		return false
	}
	if len(m.PaymentCode) > 0 && !slices.Contains(m.PaymentCode, p.PaymentCode) {
		return false
	}
	if m.Reference != "" && s.hasPrefix {
		if !strings.HasPrefix(p.ReferenceNumber, s.prefix) {
			return false
		}
	} else if m.Reference != "" {
		re := s.reference
		if re == nil {
			// A Scenario built in Go rather than parsed. Compiling here
			// every time, rather than caching, keeps Matches free of
			// writes and so safe to call from many goroutines.
			var err error
			if re, err = regexp.Compile(m.Reference); err != nil {
				return false
			}
		}
		if !re.MatchString(p.ReferenceNumber) {
			return false
		}
	}
	if a := m.Amount; a != nil {
		if a.Min != nil && p.Amount < *a.Min || a.Max != nil && p.Amount > *a.Max {
			return false
		}
	}
	return true
}

// Select returns the first scenario in list that matches p, or nil when none
// does and the payment gets the sandbox's plain behaviour. Earlier entries
// win, so user scenarios are listed before the library (see Merge).
func Select(list []Scenario, p Payment) *Scenario {
	for i := range list {
		if list[i].Matches(p) {
			return &list[i]
		}
	}
	return nil
}

// Merge combines a user's scenarios with the library: the user's, in their
// order, then the library's whose names the user did not take. A user
// scenario named like a library one replaces it, which is how a user changes
// what a library prefix does; a user scenario with a new name is simply
// tried first.
func Merge(user, library []Scenario) []Scenario {
	taken := make(map[string]bool, len(user))
	for _, s := range user {
		taken[s.Name] = true
	}
	out := make([]Scenario, 0, len(user)+len(library))
	out = append(out, user...)
	for _, s := range library {
		if !taken[s.Name] {
			out = append(out, s)
		}
	}
	return out
}

// literalPrefix reports whether the regular expression expr matches
// exactly the strings that start with a literal, and returns it: "^PAID-"
// does, "^paid-(?i)", "PAID-", "^PAID-.+x" and "^\uFFFD" do not.
func literalPrefix(expr string) (string, bool) {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return "", false
	}
	re = re.Simplify()
	if re.Op != syntax.OpConcat || len(re.Sub) != 2 {
		return "", false
	}
	begin, lit := re.Sub[0], re.Sub[1]
	if begin.Op != syntax.OpBeginText || lit.Op != syntax.OpLiteral || lit.Flags&syntax.FoldCase != 0 {
		return "", false
	}
	// The pattern's U+FFFD also matches a byte of invalid UTF-8, which a
	// byte-wise prefix does not.
	if slices.Contains(lit.Rune, utf8.RuneError) {
		return "", false
	}
	return string(lit.Rune), true
}
