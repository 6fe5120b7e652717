package scenarios

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// scenarioFile is a file of n scenarios, one a line, each written by line(i).
func scenarioFile(n int, line func(i int) string) string {
	var b strings.Builder
	b.WriteString("scenarios:\n")
	for i := range n {
		b.WriteString(line(i))
	}
	return b.String()
}

// lineCol is the position of the first occurrence of what after line
// after (1-based) in src, as "line:col".
func lineCol(t *testing.T, src string, line int, what string) string {
	t.Helper()
	lines := strings.Split(src, "\n")
	col := strings.Index(lines[line-1], what)
	if col < 0 {
		t.Fatalf("line %d is %q; it has no %q", line, lines[line-1], what)
	}
	return fmt.Sprintf("%d:%d", line, col+1)
}

// TestLimits: each limit of limits.go, just under it (the file loads) and
// just over it (the file is refused, with the limit, the value found and
// the position).
func TestLimits(t *testing.T) {
	const paidNow = "create: {latency: 1ms}"
	withSteps := func(n int) string {
		return "scenarios:\n  - name: s\n    timeline:\n" + strings.Repeat("      - {after: 1s, notify: PAID}\n", n)
	}
	withRetries := func(n int) string {
		return "scenarios:\n  - name: s\n    delivery:\n      retries:\n" + strings.Repeat("        - 1s\n", n)
	}
	withName := func(n int) string {
		return "scenarios:\n  - name: " + strings.Repeat("a", n) + "\n    " + paidNow + "\n"
	}
	// Characters, not bytes: é is two bytes.
	withDescription := func(n int) string {
		return "scenarios:\n  - name: s\n    description: " + strings.Repeat("é", n) + "\n    " + paidNow + "\n"
	}
	withReference := func(n int) string {
		return "scenarios:\n  - name: s\n    match: {reference: \"^" + strings.Repeat("A", n-1) + "\"}\n    " + paidNow + "\n"
	}
	withScenarios := func(n int) string {
		return scenarioFile(n, func(i int) string { return fmt.Sprintf("  - {name: s%d, %s}\n", i, paidNow) })
	}
	// A file of exactly n bytes: one scenario, then a comment to fill it.
	ofSize := func(n int) string {
		head := "scenarios:\n  - {name: s, " + paidNow + "}\n"
		return head + "#" + strings.Repeat("x", n-len(head)-1)
	}
	// 1 KiB values through n aliases, two to a scenario: MaxAliasText is
	// 1024 of them.
	long := strings.Repeat("x", 1<<10)
	withAliasedText := func(n int) string {
		var b strings.Builder
		b.WriteString("scenarios:\n  - {name: s0, description: &d " + long + ", " + paidNow + "}\n")
		for i := 0; n > 0; i++ {
			if n == 1 {
				fmt.Fprintf(&b, "  - {name: a%d, description: *d, %s}\n", i, paidNow)
			} else {
				fmt.Fprintf(&b, "  - {name: a%d, description: *d, match: {clientId: *d}, %s}\n", i, paidNow)
			}
			n -= 2
		}
		return b.String()
	}
	// Steps through n aliases, 5 values each (the mapping, two keys, two
	// scalars), 100 to a scenario: MaxAliasNodes is 5,000 of them.
	withAliasedSteps := func(n int) string {
		var b strings.Builder
		b.WriteString("scenarios:\n  - {name: s, timeline: [&s {after: 1s, notify: PAID}]}\n")
		for i := 0; n > 0; i++ {
			k := min(n, MaxSteps)
			fmt.Fprintf(&b, "  - {name: s%d, timeline: [%s*s]}\n", i, strings.Repeat("*s, ", k-1))
			n -= k
		}
		return b.String()
	}

	for _, tt := range []struct {
		name        string
		under, over string
		where       func(t *testing.T, over string) string // line:col of the refusal
		want        string
	}{
		{
			"file size", ofSize(MaxFileSize), ofSize(MaxFileSize + 1),
			func(t *testing.T, over string) string {
				return fmt.Sprintf("3:%d", MaxFileSize-len(over[:strings.Index(over, "#")])+1)
			},
			"file is 262145 bytes, over the limit of 262144 bytes (256 KiB) for a scenario file, which falls here",
		},
		{
			"aliased text", withAliasedText(MaxAliasText / len(long)), withAliasedText(MaxAliasText/len(long) + 1),
			func(t *testing.T, over string) string { return lineCol(t, over, 3+MaxAliasText/len(long)/2, "*d") },
			"alias *d brings the text aliases add to the document to 1049600 bytes, over the limit of 1048576 (1 MiB)",
		},
		{
			"aliased values", withAliasedSteps(MaxAliasNodes / 5), withAliasedSteps(MaxAliasNodes/5 + 1),
			func(t *testing.T, over string) string { return lineCol(t, over, 3+MaxAliasNodes/5/MaxSteps, "*s") },
			"alias *s brings the values aliases add to the document over the limit of 25000",
		},
		{
			"scenarios per file", withScenarios(MaxScenarios), withScenarios(MaxScenarios + 1),
			func(t *testing.T, over string) string { return lineCol(t, over, 2+MaxScenarios, "{") },
			"scenarios: 1001 scenarios, over the limit of 1000 per file (this is scenarios[1000])",
		},
		{
			"timeline steps", withSteps(MaxSteps), withSteps(MaxSteps + 1),
			func(t *testing.T, over string) string { return lineCol(t, over, 4+MaxSteps, "{") },
			"scenarios[0].timeline: 101 steps, over the limit of 100 per scenario (this is timeline[100])",
		},
		{
			"duplicates",
			"scenarios:\n  - name: s\n    delivery: {duplicates: 10}\n",
			"scenarios:\n  - name: s\n    delivery: {duplicates: 11}\n",
			func(t *testing.T, over string) string { return lineCol(t, over, 3, "11") },
			"scenarios[0].delivery.duplicates: expected 0 to 10 extra deliveries, got 11",
		},
		{
			"retries", withRetries(MaxRetries), withRetries(MaxRetries + 1),
			func(t *testing.T, over string) string { return lineCol(t, over, 5+MaxRetries, "1s") },
			"scenarios[0].delivery.retries: 21 retries, over the limit of 20 (this is retries[20])",
		},
		{
			"name length", withName(MaxNameLength), withName(MaxNameLength + 1),
			func(t *testing.T, over string) string { return lineCol(t, over, 2, "aaa") },
			"scenarios[0].name: 201 characters, over the limit of 200",
		},
		{
			"description length", withDescription(MaxDescriptionLength), withDescription(MaxDescriptionLength + 1),
			func(t *testing.T, over string) string { return lineCol(t, over, 3, "é") },
			"scenarios[0].description: 2001 characters, over the limit of 2000",
		},
		{
			"reference length", withReference(MaxReferenceLength), withReference(MaxReferenceLength + 1),
			func(t *testing.T, over string) string { return lineCol(t, over, 3, `"^`) },
			"scenarios[0].match.reference: 1001 characters, over the limit of 1000",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Parse("s.yaml", []byte(tt.under)); err != nil {
				t.Errorf("just under the limit: %v", firstLines(err.Error(), 3))
			}
			list, err := Parse("s.yaml", []byte(tt.over))
			if list != nil {
				t.Errorf("just over the limit: Parse returned %d scenarios, want none", len(list))
			}
			want := "s.yaml:" + tt.where(t, tt.over) + ": " + tt.want
			if got := errorText(t, err); !strings.Contains(got, want) {
				t.Errorf("just over the limit:\ngot  %s\nwant a line starting %s", firstLines(got, 3), want)
			}
		})
	}
}

// TestLimitsReportedWithOtherProblems: a limit crossed is one problem
// among the file's others, reported together.
func TestLimitsReportedWithOtherProblems(t *testing.T) {
	src := "scenarios:\n  - name: s\n    delivery: {duplicates: 11, variant: nope}\n    timeline:\n" +
		strings.Repeat("      - {after: 1s, notify: PAID}\n", MaxSteps+1)
	got := errorText(t, func() error { _, err := Parse("s.yaml", []byte(src)); return err }())
	for _, want := range []string{
		"s.yaml:3:28: scenarios[0].delivery.duplicates: expected 0 to 10 extra deliveries, got 11",
		`s.yaml:3:41: scenarios[0].delivery.variant: expected one of valid`,
		"s.yaml:105:9: scenarios[0].timeline: 101 steps, over the limit of 100 per scenario",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("errors:\n%s\nwant among them %s", got, want)
		}
	}
	if n := strings.Count(got, "\n") + 1; n != 3 {
		t.Errorf("%d problems:\n%s\nwant 3: steps past the limit are not checked one by one", n, got)
	}
}

// TestProbeFiles: the files of the issue 16 probe are refused quickly and
// with little memory. The first made the scenarios listing answer 2.6 GB: a
// 1 MiB file of aliases to a long description. The second turned one create
// into 384,406 notifies: one scenario of 34,946 steps. Each is tried as
// the probe wrote it and in the form that fits under MaxFileSize.
func TestProbeFiles(t *testing.T) {
	descriptions := func(size, anchor int) string {
		var b strings.Builder
		b.WriteString("scenarios:\n  - name: s0\n    description: &d \"" + strings.Repeat("x", anchor) + "\"\n    create: {latency: 1ms}\n")
		for i := 1; b.Len() < size-100; i++ {
			fmt.Fprintf(&b, "  - {name: s%d, description: *d, create: {latency: 1ms}}\n", i)
		}
		return b.String()
	}
	steps := func(n int, line string) string {
		return "scenarios:\n  - name: many-notifies\n    delivery: {duplicates: 10}\n    timeline:\n" +
			"      - &s {after: 1s, notify: PAID}\n" + strings.Repeat(line, n-1)
	}
	for _, tt := range []struct {
		name, src, want string
	}{
		{"aliased descriptions, 1 MiB", descriptions(1<<20, 512<<10), "over the limit of 262144 bytes (256 KiB) for a scenario file"},
		{"aliased descriptions, under 256 KiB", descriptions(MaxFileSize, 128<<10), "alias *d brings the text aliases add to the document to 1179648 bytes, over the limit of 1048576 (1 MiB)"},
		{"34,946 steps", steps(34946, "      - {after: 1s, notify: PAID}\n"), "over the limit of 262144 bytes (256 KiB) for a scenario file"},
		{"34,946 aliased steps", steps(34946, "      - *s\n"), "over the limit of 262144 bytes (256 KiB) for a scenario file"},
		{"34,946 aliased steps in a flow list", "scenarios:\n  - name: many-notifies\n    delivery: {duplicates: 10}\n    timeline: [&s {after: 1s, notify: PAID}" +
			strings.Repeat(", *s", 34945) + "]\n", "alias *s brings the values aliases add to the document over the limit of 25000"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			data := []byte(tt.src)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			start := time.Now()
			list, err := Parse("probe.yaml", data)
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			if list != nil || err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("%d bytes: %d scenarios, %v; want it refused: %s", len(data), len(list), firstLines(fmt.Sprint(err), 3), tt.want)
			}
			allocated := after.TotalAlloc - before.TotalAlloc
			t.Logf("%d bytes refused in %s, %d KiB allocated: %s", len(data), took, allocated>>10, err)
			// Generous bounds, for -race on two busy cores: the probe's
			// first file took 7.6 s and 2.6 GB.
			if took > 3*time.Second {
				t.Errorf("refused after %s, want well under a second", took)
			}
			if allocated > 64<<20 {
				t.Errorf("Parse allocated %d MiB, want a few", allocated>>20)
			}
		})
	}
}

// TestNotifies: the most notifies one payment can cause, by the formula
// of Scenario.Notifies, for the library and the probe's scenario.
func TestNotifies(t *testing.T) {
	notify := Step{After: time.Second, Notify: StatusPaid}
	paid := Step{After: time.Second, Status: StatusPaid}
	probe := Scenario{Timeline: append(make([]Step, 34945, 34946), paid), Delivery: Delivery{Duplicates: 10}}
	for i := range 34945 {
		probe.Timeline[i] = notify
	}
	bound := (1 + MaxDuplicates) * (MaxSteps + 1)
	for _, tt := range []struct {
		name string
		s    Scenario
		want int
	}{
		{"no timeline: the expiry's notify", Scenario{}, 1},
		{"a status step", Scenario{Timeline: []Step{paid}}, 1},
		{"a status step and a notify", Scenario{Timeline: []Step{paid, notify}}, 2},
		{"a notify only: it and the expiry's", Scenario{Timeline: []Step{notify}}, 2},
		{"duplicates multiply", Scenario{Timeline: []Step{paid, notify}, Delivery: Delivery{Duplicates: 2}}, 6},
		{"retries add none", Scenario{Timeline: []Step{paid}, Delivery: Delivery{Retries: []time.Duration{time.Second, time.Minute}}}, 1},
		{"no payment: create.error", Scenario{Create: Create{Error: "12"}}, 0},
		{"no payment: create.drop", Scenario{Create: Create{Drop: true}, Timeline: []Step{paid}}, 0},
		{"built in Go, negative duplicates", Scenario{Delivery: Delivery{Duplicates: -1}}, 1},
		{"the most within the limits", Scenario{Timeline: slices.Repeat([]Step{notify}, MaxSteps), Delivery: Delivery{Duplicates: MaxDuplicates}}, bound},
		{"the probe's, which the limits refuse", probe, 384406},
	} {
		if got := tt.s.Notifies(); got != tt.want {
			t.Errorf("%s: Notifies() = %d, want %d", tt.name, got, tt.want)
		}
	}
	want := map[string]int{"paid-now": 1, "duplicate-notify": 3, "out-of-order": 2, "error-12": 0, "slow-create": 1}
	for _, s := range Library() {
		n := s.Notifies()
		if w, ok := want[s.Name]; ok && n != w {
			t.Errorf("library %s: Notifies() = %d, want %d", s.Name, n, w)
		}
		if n > bound {
			t.Errorf("library %s: Notifies() = %d, over the bound of %d", s.Name, n, bound)
		}
	}
}

// TestLoadLimits: Load, which serve --scenarios and scenarios lint use,
// refuses a file over MaxFileSize without reading it as YAML, and reports
// it together with the other files' problems.
func TestLoadLimits(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(big, []byte("scenarios:\n#"+strings.Repeat("x", MaxFileSize)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("scenarios:\n  - {name: s, delivery: {duplicates: 11}}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(dir)
	got := errorText(t, err)
	for _, want := range []string{
		bad + ":2:38: scenarios[0].delivery.duplicates: expected 0 to 10 extra deliveries, got 11",
		big + ":2:262134: file is 262156 bytes, over the limit of 262144 bytes (256 KiB) for a scenario file",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("errors:\n%s\nwant among them %s", got, want)
		}
	}
}

// TestRepositoryFilesWithinLimits: the scenario files of the repository
// load, the library among them.
func TestRepositoryFilesWithinLimits(t *testing.T) {
	if _, err := Load("examples.yaml", "bench.yaml"); err != nil {
		t.Fatal(err)
	}
	if n := len(Library()); n == 0 {
		t.Fatal("the library is empty")
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines[n] = "..."
	}
	return strings.Join(lines, "\n")
}
