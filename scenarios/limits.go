package scenarios

// The limits on what a scenario file may hold. [sandbox] BJPAY has no
// scenarios: the sandbox chose these so that one file, whether given to
// serve --scenarios or uploaded to POST /_sandbox/scenarios, cannot exhaust
// the process. A probe (issue 16) ran the sandbox out of memory with a
// 1 MiB file of aliased descriptions, and turned one create into 384,406
// notifies with a scenario of 34,946 steps. Each limit is far above what a
// hand-written file needs; a file over one is refused with the limit, the
// value found and its position, among the file's other problems.
const (
	// MaxFileSize is the largest scenario file Parse and Load read, in
	// bytes (256 KiB): room for MaxScenarios scenarios of 250 bytes each.
	// The embedded library, 28 scenarios and their comments, is 10 KB.
	MaxFileSize = 256 << 10

	// MaxAliasText is how much text, in bytes of keys and scalar values,
	// the aliases of a YAML document may add to it once they are resolved
	// (1 MiB). A few kilobytes of aliases to one long value expand to
	// gigabytes otherwise, in memory and in every listing. Decode enforces
	// it for every format it reads.
	MaxAliasText = 1 << 20
	// MaxAliasNodes is how many values (mappings, lists, keys and scalars)
	// the aliases of a YAML document may add to it once they are resolved:
	// aliases of aliases multiply ("billion laughs"). Decode enforces it
	// for every format it reads.
	MaxAliasNodes = 25_000

	// MaxScenarios is the most scenarios one file holds. Every create is
	// matched against the scenarios in order, so a long list slows every
	// create down.
	MaxScenarios = 1000
	// MaxSteps is the longest Timeline a scenario has. Each step can send
	// 1 + Delivery.Duplicates notifies (see Scenario.Notifies).
	MaxSteps = 100
	// MaxDuplicates is the most Delivery.Duplicates: extra copies of every
	// notify.
	MaxDuplicates = 10
	// MaxRetries is the longest Delivery.Retries schedule: attempts after
	// the first.
	MaxRetries = 20

	// MaxNameLength is the longest Name, in characters.
	MaxNameLength = 200
	// MaxDescriptionLength is the longest Description, in characters.
	MaxDescriptionLength = 2000
	// MaxReferenceLength is the longest Match.Reference pattern, in
	// characters: it is compiled for every scenario that has it, and the
	// references it matches are 64 characters at most.
	MaxReferenceLength = 1000
)

// Notifies returns the most notifies one payment that s matches can cause:
//
//	(1 + Duplicates) × (status steps + notify steps + 1 if no status step)
//
// A payment enters one terminal state at most, with a notify: through a
// status step of the timeline, or, when the timeline has none and so leaves
// the payment PENDING, at expiry (or through the control API, which stands
// in for that same one). Each notify step sends one more notify whatever
// the status. Every notify is delivered 1 + Delivery.Duplicates times, each
// copy a delivery of its own; retries are further attempts of the same
// delivery and add none. A scenario whose create answers instead of
// creating the payment (create.error, status or drop) causes none.
//
// Within the limits, that is at most (1 + MaxDuplicates) × (MaxSteps + 1).
func (s *Scenario) Notifies() int {
	if replacement(&s.Create) != "" {
		return 0
	}
	var status, notifies int
	for _, st := range s.Timeline {
		switch {
		case st.Status != "":
			status++
		case st.Notify != "":
			notifies++
		}
	}
	end := status
	if status == 0 {
		end = 1 // the expiry's
	}
	return (1 + max(s.Delivery.Duplicates, 0)) * (end + notifies)
}
