// Package scenarios holds the sandbox's YAML formats and their strict loader.
//
// Every YAML file the sandbox reads is decoded with Decode, which rejects
// unknown keys, duplicate keys and wrong types, and reports every problem at
// once as file:line:col messages (an ErrorList), the way a compiler does.
// Validation of the decoded values is a separate, pure step done by the owner
// of each format; it uses the Positions recorded while decoding to point at
// the offending value.
//
// The package never logs and never imports the sandbox itself.
package scenarios
