package scenarios

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits on durations, besides those of limits.go. BJPAY documents none of
// them; they keep a scenario from stalling the sandbox or a merchant's test
// run by accident.
const (
	maxLatency = time.Minute     // create.latency
	maxTimeout = 5 * time.Minute // delivery.timeout
)

// errorCodes are the documented BJPAY error codes (bjpay-api.md §1), the
// only values create.error takes. "OK" is success, not an error.
var errorCodes = []string{"01", "12", "13", "14", "15", "16", "17", "18", "19", "23"}

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// fileSchema is one scenario file.
type fileSchema struct {
	At        Positions  `yaml:"-"`
	Scenarios []Scenario `yaml:"scenarios"`
}

// checker collects the problems of one file. Each check reads the decoded
// values and their positions and changes nothing: defaults come later, in a
// step of their own, so that validation sees exactly what the file says.
type checker struct {
	errs ErrorList
}

// add reports a problem with the value at path; the message says what was
// found and what is expected.
func (c *checker) add(pos Pos, path, format string, args ...any) {
	c.errs.Add(pos, "%s: %s", path, fmt.Sprintf(format, args...))
}

// at is where field's value is in at, else fallback: a section the file did
// not write has no positions, and a problem with it is reported where its
// enclosing value is.
func at(p Positions, field string, fallback Pos) Pos {
	if pos := p.Of(field); pos.Line > 0 {
		return pos
	}
	return fallback
}

func written(p Positions, field string) bool {
	_, ok := p[field]
	return ok
}

// file checks every scenario of one decoded file, but not that names are
// unique: that spans all the files loaded together (see checkNames).
func (c *checker) file(f *fileSchema, whole Pos) {
	if len(f.Scenarios) == 0 {
		c.errs.Add(at(f.At, "scenarios", whole), "scenarios: expected a list of at least one scenario, got none")
	}
	top := at(f.At, "", whole)
	list := f.Scenarios
	if len(list) > MaxScenarios {
		c.errs.Add(at(f.At, fmt.Sprintf("scenarios[%d]", MaxScenarios), top),
			"scenarios: %d scenarios, over the limit of %d per file (this is scenarios[%d]); expected at most %d, such as these split across files",
			len(list), MaxScenarios, MaxScenarios, MaxScenarios)
		list = list[:MaxScenarios] // the rest are not checked: the file is refused anyway
	}
	for i := range list {
		path := fmt.Sprintf("scenarios[%d]", i)
		c.scenario(&list[i], path, at(f.At, path, top))
	}
}

func (c *checker) scenario(s *Scenario, path string, whole Pos) {
	here := at(s.At, "", whole)
	switch {
	case !written(s.At, "name") || s.Name == "":
		c.add(here, path, `name is missing; expected a name such as "paid-after-delay"`)
	case utf8.RuneCountInString(s.Name) > MaxNameLength:
		c.add(at(s.At, "name", here), path+".name", `%d characters, over the limit of %d; expected a shorter name such as "paid-after-delay"`,
			utf8.RuneCountInString(s.Name), MaxNameLength)
	case !namePattern.MatchString(s.Name):
		c.add(at(s.At, "name", here), path+".name",
			`expected lower-case letters, digits and dashes, starting with a letter or digit (such as "paid-after-delay"), got %s`, quote(s.Name))
	}

	if n := utf8.RuneCountInString(s.Description); n > MaxDescriptionLength {
		c.add(at(s.At, "description", here), path+".description",
			"%d characters, over the limit of %d; expected a shorter description (what the scenario does, for listings)", n, MaxDescriptionLength)
	}
	c.match(&s.Match, path+".match", at(s.At, "match", here))
	c.create(&s.Create, path+".create", at(s.At, "create", here))
	c.timeline(s, path, here)
	c.delivery(&s.Delivery, path+".delivery", at(s.At, "delivery", here))

	hasCreate := len(s.Create.At) > 1 // "" plus at least one key
	hasDelivery := len(s.Delivery.At) > 1
	if !hasCreate && len(s.Timeline) == 0 && !hasDelivery {
		c.add(here, path, "no create, timeline or delivery, so the scenario would change nothing; expected at least one of them")
	}
	// error, status and drop answer instead of creating the payment, so
	// there is never a payment for a timeline or a delivery to act on.
	if replaced := replacement(&s.Create); replaced != "" {
		if len(s.Timeline) > 0 {
			c.add(at(s.At, "timeline", here), path+".timeline",
				"create.%s means no payment is created, so the timeline would never run; expected either create.%s or a timeline", replaced, replaced)
		}
		if hasDelivery {
			c.add(at(s.At, "delivery", here), path+".delivery",
				"create.%s means no payment is created, so no notification is ever delivered; expected either create.%s or delivery", replaced, replaced)
		}
	}
}

// replacement names the first create setting that replaces the normal
// answer, or "".
func replacement(cr *Create) string {
	switch {
	case cr.Error != "":
		return "error"
	case cr.Status != 0:
		return "status"
	case cr.Drop:
		return "drop"
	}
	return ""
}

func (c *checker) match(m *Match, path string, whole Pos) {
	if written(m.At, "clientId") && m.ClientID == "" {
		c.add(at(m.At, "clientId", whole), path+".clientId",
			"expected a client id, got an empty string; leave clientId out to match every client")
	}
	if m.PaymentCode != nil && len(m.PaymentCode) == 0 {
		c.add(at(m.At, "paymentCode", whole), path+".paymentCode",
			"expected at least one channel code such as GOPAY, got an empty list; leave paymentCode out to match every channel")
	}
	for i, code := range m.PaymentCode {
		if code == "" {
			item := fmt.Sprintf("paymentCode[%d]", i)
			c.add(at(m.At, item, whole), path+"."+item, "expected a channel code such as GOPAY, got an empty string")
		}
	}
	if written(m.At, "reference") {
		if m.Reference == "" {
			c.add(at(m.At, "reference", whole), path+".reference",
				`expected a regular expression such as "^DELAY-", got an empty string; leave reference out to match every reference`)
		} else if n := utf8.RuneCountInString(m.Reference); n > MaxReferenceLength {
			c.add(at(m.At, "reference", whole), path+".reference",
				`%d characters, over the limit of %d; expected a shorter regular expression, such as "^DELAY-"`, n, MaxReferenceLength)
		} else if _, err := regexp.Compile(m.Reference); err != nil {
			c.add(at(m.At, "reference", whole), path+".reference",
				`%s is not a valid RE2 regular expression (%s); expected one such as "^DELAY-"`,
				quote(m.Reference), strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		}
	}
	if a := m.Amount; a != nil {
		here := at(m.At, "amount", whole)
		if a.Min == nil && a.Max == nil {
			c.add(here, path+".amount",
				"expected min, max or both, such as {min: 1000, max: 50000}, got neither; leave amount out to match every amount")
		}
		if a.Min != nil && *a.Min < 0 {
			c.add(at(a.At, "min", here), path+".amount.min", "expected an amount of 0 or more, got %d", *a.Min)
		}
		if a.Max != nil && *a.Max < 0 {
			c.add(at(a.At, "max", here), path+".amount.max", "expected an amount of 0 or more, got %d", *a.Max)
		}
		if a.Min != nil && a.Max != nil && *a.Max >= 0 && *a.Min > *a.Max {
			c.add(at(a.At, "max", here), path+".amount.max",
				"expected at least min (%d), got %d; the range is inclusive at both ends", *a.Min, *a.Max)
		}
	}
}

func (c *checker) create(cr *Create, path string, whole Pos) {
	if cr.Latency < 0 || cr.Latency > maxLatency {
		c.add(at(cr.At, "latency", whole), path+".latency",
			"expected a duration from 0s to %s, got %s", duration(maxLatency), duration(cr.Latency))
	}
	// At most one replacement of the answer. Each one after the first
	// written is reported, naming the first.
	var set []string
	for _, r := range []struct {
		key string
		on  bool
	}{{"error", cr.Error != ""}, {"status", cr.Status != 0}, {"drop", cr.Drop}} {
		if r.on {
			set = append(set, r.key)
		}
	}
	slices.SortStableFunc(set, func(a, b string) int { return comparePos(cr.At.Of(a), cr.At.Of(b)) })
	for _, key := range set[min(1, len(set)):] {
		c.add(at(cr.At, key, whole), path+"."+key,
			"%s and %s are both set; expected at most one of error, status and drop, since each replaces the normal answer", set[0], key)
	}
	if written(cr.At, "error") && !slices.Contains(errorCodes, cr.Error) {
		hint := ""
		if slices.Contains(errorCodes, "0"+cr.Error) {
			hint = fmt.Sprintf(`; codes have two digits: write "0%s"`, cr.Error)
		} else if cr.Error == "OK" {
			hint = "; OK is success: leave error out to create the payment"
		}
		c.add(at(cr.At, "error", whole), path+".error",
			"expected a documented BJPAY error code (%s or %s), got %s%s",
			strings.Join(errorCodes[:len(errorCodes)-1], ", "), errorCodes[len(errorCodes)-1], quote(cr.Error), hint)
	}
	if written(cr.At, "status") && (cr.Status < 500 || cr.Status > 599) {
		c.add(at(cr.At, "status", whole), path+".status",
			"expected an HTTP status from 500 to 599, got %d; for a documented BJPAY error use error: instead", cr.Status)
	}
}

var terminal = []string{StatusPaid, StatusFailed, StatusExpired}

func (c *checker) timeline(s *Scenario, scenarioPath string, whole Pos) {
	var (
		prev      time.Duration
		paid      = -1 // index of the step that ends the payment, if any
		listWhole = at(s.At, "timeline", whole)
		steps     = s.Timeline
	)
	if len(steps) > MaxSteps {
		name := fmt.Sprintf("timeline[%d]", MaxSteps)
		c.add(at(s.At, name, listWhole), scenarioPath+".timeline",
			"%d steps, over the limit of %d per scenario (this is %s); expected at most %d, since each step can send a notify to the merchant",
			len(steps), MaxSteps, name, MaxSteps)
		steps = steps[:MaxSteps] // the rest are not checked: the file is refused anyway
	}
	for i := range steps {
		st := &steps[i]
		name := fmt.Sprintf("timeline[%d]", i)
		path := scenarioPath + "." + name
		here := at(st.At, "", at(s.At, name, listWhole))

		if !written(st.At, "after") {
			c.add(here, path, "after is missing; expected an offset from creation such as 2s (0s for at once)")
		} else if st.After < 0 {
			c.add(at(st.At, "after", here), path+".after", "expected an offset of 0s or more, got %s", duration(st.After))
		} else if i > 0 && st.After < prev {
			c.add(at(st.At, "after", here), path+".after",
				"%s is earlier than the %s of timeline[%d]; expected entries in time order, after never decreasing",
				duration(st.After), duration(prev), i-1)
		}
		prev = max(prev, st.After)

		switch {
		case st.Status == "" && st.Notify == "":
			c.add(here, path, "expected status or notify, got neither")
		case st.Status != "" && st.Notify != "":
			c.add(at(st.At, "notify", here), path+".notify",
				"status and notify are both set; expected exactly one per entry: write two entries with the same after")
		}
		for _, key := range []string{"status", "notify"} {
			v := st.Status
			if key == "notify" {
				v = st.Notify
			}
			if written(st.At, key) && !slices.Contains(terminal, v) {
				c.add(at(st.At, key, here), path+"."+key, "expected PAID, FAILED or EXPIRED, got %s%s", quote(v), stateHint(v))
			}
		}
		if !slices.Contains(terminal, st.Status) {
			continue
		}
		if paid >= 0 {
			first := &s.Timeline[paid]
			c.add(at(st.At, "status", here), path+".status",
				"the payment is already %s at %s (timeline[%d]); terminal states are final — use notify: to send a contradictory notification",
				first.Status, duration(first.After), paid)
			continue
		}
		paid = i
	}
}

// stateHint explains the likeliest slips in a status: lower case, and
// PENDING, which is where every payment starts rather than where it goes.
func stateHint(v string) string {
	switch up := strings.ToUpper(v); {
	case up == "PENDING":
		return "; every payment starts PENDING, and a timeline moves it on"
	case up != v && slices.Contains(terminal, up):
		return fmt.Sprintf("; write it in capitals, %s", up)
	}
	return ""
}

func (c *checker) delivery(d *Delivery, path string, whole Pos) {
	if written(d.At, "timeout") && (d.Timeout <= 0 || d.Timeout > maxTimeout) {
		c.add(at(d.At, "timeout", whole), path+".timeout",
			"expected a duration above 0s and at most %s, got %s", duration(maxTimeout), duration(d.Timeout))
	}
	retries := d.Retries
	if len(retries) > MaxRetries {
		item := fmt.Sprintf("retries[%d]", MaxRetries)
		c.add(at(d.At, item, at(d.At, "retries", whole)), path+".retries",
			"%d retries, over the limit of %d (this is %s); expected at most %d delays",
			len(retries), MaxRetries, item, MaxRetries)
		retries = retries[:MaxRetries]
	}
	for i, r := range retries {
		if r <= 0 {
			item := fmt.Sprintf("retries[%d]", i)
			c.add(at(d.At, item, whole), path+"."+item, "expected a delay above 0s, got %s", duration(r))
		}
	}
	if d.Delay < 0 {
		c.add(at(d.At, "delay", whole), path+".delay", "expected a duration of 0s or more, got %s", duration(d.Delay))
	}
	if d.Duplicates < 0 || d.Duplicates > MaxDuplicates {
		c.add(at(d.At, "duplicates", whole), path+".duplicates",
			"expected 0 to %d extra deliveries, got %d", MaxDuplicates, d.Duplicates)
	}
	if written(d.At, "variant") && !slices.Contains(variants, d.Variant) {
		c.add(at(d.At, "variant", whole), path+".variant",
			"expected one of %s, got %s", strings.Join(variants, ", "), quote(d.Variant))
	}
}

// checkNames reports every scenario whose name an earlier one in list
// already has, at the later one, saying where the first is. list holds every
// file loaded together, in load order.
func checkNames(list []Scenario, index []int) ErrorList {
	var errs ErrorList
	first := map[string]*Scenario{}
	for i := range list {
		s := &list[i]
		if s.Name == "" {
			continue // reported as missing already
		}
		f, dup := first[s.Name]
		if !dup {
			first[s.Name] = s
			continue
		}
		p := f.At.Of("name")
		errs.Add(s.At.Of("name"), "scenarios[%d].name: %s is already the name of the scenario at %s:%d; expected a name used once across all loaded files",
			index[i], quote(s.Name), p.File, p.Line)
	}
	return errs
}

// duration renders d as written in YAML: 1m rather than Go's 1m0s.
func duration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// comparePos orders positions in a file by line, then column.
func comparePos(a, b Pos) int {
	if a.Line != b.Line {
		return a.Line - b.Line
	}
	return a.Col - b.Col
}
