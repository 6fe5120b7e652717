// Package scenarios holds the sandbox's YAML formats and their strict loader.
//
// Every YAML file the sandbox reads is decoded with Decode, which rejects
// unknown keys, duplicate keys and wrong types, and reports every problem at
// once as file:line:col messages (an ErrorList), the way a compiler does.
// Validation of the decoded values is a separate, pure step done by the owner
// of each format; it uses the Positions recorded while decoding to point at
// the offending value.
//
// # Scenarios
//
// The format this package owns is the scenario file: a list under
// "scenarios:" of Scenario values, each deciding for the payments it matches
// how the create call answers, what happens to the payment afterwards on a
// timeline in sandbox time, and how its notifications are delivered. Parse
// reads one file, Load reads files and directories, and Library is the
// embedded default library (library/defaults.yaml, which documents the format
// for users), selected by reference prefix: PAID-, DELAY-, BADSIG-, ... The
// sandbox combines a user's scenarios with the library using Merge and picks
// one per payment with Select.
//
// Loading is three steps, each on its own: decoding (Decode), validation,
// which changes nothing and reports everything, and only then defaults (a 10 s
// timeout, retries after 1m, 5m, 15m, 1h and 6h, the valid variant), so that
// validation judges what the file says rather than what was filled in.
//
// A file is bounded (limits.go): in size, in what its aliases add, in
// scenarios, steps, duplicates, retries and the length of its texts, so that
// no file or upload can exhaust the sandbox. Scenario.Notifies says how many
// notifies one payment can cause.
//
// The package never logs and never imports the sandbox itself.
package scenarios
