package scenarios

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
)

// LibraryFile is the File of the embedded library's scenarios, and the file
// its positions name.
const LibraryFile = "(embedded)/defaults.yaml"

//go:embed library/defaults.yaml
var libraryFS embed.FS

// Parse decodes and validates one file's scenarios and applies their
// defaults. Every problem is reported at once, as an ErrorList of
// file:line:col messages; file is the name those messages and
// Scenario.File use.
func Parse(file string, data []byte) ([]Scenario, error) {
	list, errs := parse(file, data)
	errs = append(errs, checkNames(list, indexes(len(list)))...)
	if len(errs) > 0 {
		errs.Sort()
		return nil, errs
	}
	return finish(list), nil
}

// Load reads scenario files and directories, parses them all and checks that
// names are unique across them. A directory contributes every *.yaml and
// *.yml file directly inside it, in name order; a file named explicitly is
// read whatever its extension. The scenarios come back in that order, which
// is the order Select tries them in. Every problem from every file is
// reported at once, as one ErrorList; a path that cannot be read is one of
// them, named by the path.
func Load(paths ...string) ([]Scenario, error) {
	var (
		errs  ErrorList
		all   []Scenario
		index []int // each scenario's index in its own file, for messages
		seen  = map[string]bool{}
	)
	for _, path := range paths {
		files, err := expand(path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, file := range files {
			if seen[filepath.Clean(file)] {
				continue // named twice, e.g. on its own and through its directory
			}
			seen[filepath.Clean(file)] = true
			data, err := os.ReadFile(file)
			if err != nil {
				errs = append(errs, readError(file, err))
				continue
			}
			list, perrs := parse(file, data)
			errs = append(errs, perrs...)
			all = append(all, list...)
			index = append(index, indexes(len(list))...)
		}
	}
	errs = append(errs, checkNames(all, index)...)
	if len(errs) > 0 {
		errs.Sort()
		return nil, errs
	}
	return finish(all), nil
}

// expand lists the scenario files path stands for.
func expand(path string) ([]string, *Error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, readError(path, err)
	}
	if !info.IsDir() {
		return []string{path}, nil
	}
	entries, err := os.ReadDir(path) // sorted by name
	if err != nil {
		return nil, readError(path, err)
	}
	var files []string
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.IsDir() || ext != ".yaml" && ext != ".yml" {
			continue
		}
		files = append(files, filepath.Join(path, e.Name()))
	}
	if len(files) == 0 {
		return nil, &Error{Pos: Pos{File: path}, Msg: "directory holds no .yaml or .yml files; expected scenario files directly inside it"}
	}
	return files, nil
}

// readError says why path could not be read. The path leads the message as
// its position, so the *fs.PathError's own copy of it is left out.
func readError(path string, err error) *Error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return &Error{Pos: Pos{File: path}, Msg: fmt.Sprintf("cannot read: %v; expected a scenario file or a directory of them", err)}
}

// parse decodes and validates one file, leaving out the check that names are
// unique (which may span files) and the defaults (which come after every
// check has passed). A file over MaxFileSize is not decoded at all.
func parse(file string, data []byte) ([]Scenario, ErrorList) {
	if len(data) > MaxFileSize {
		return nil, ErrorList{{Pos: offsetPos(file, data, MaxFileSize), Msg: fmt.Sprintf(msgFileTooBig, len(data), MaxFileSize)}}
	}
	var f fileSchema
	if err := Decode(file, data, &f); err != nil {
		var errs ErrorList
		if !errors.As(err, &errs) {
			return nil, ErrorList{{Pos: Pos{File: file}, Msg: err.Error()}}
		}
		return nil, errs
	}
	var c checker
	c.file(&f, Pos{File: file, Line: 1, Col: 1})
	for i := range f.Scenarios {
		f.Scenarios[i].File = file
	}
	return f.Scenarios, c.errs
}

// finish prepares valid scenarios for use: it applies the defaults and
// compiles the reference patterns.
func finish(list []Scenario) []Scenario {
	for i := range list {
		s := &list[i]
		s.Delivery.setDefaults()
		if s.Match.Reference != "" {
			s.reference = regexp.MustCompile(s.Match.Reference) // validated already
			s.prefix, s.hasPrefix = literalPrefix(s.Match.Reference)
		}
	}
	return list
}

// offsetPos is the position of the byte at offset off in data, counting
// lines as YAML does (\n, \r\n or a lone \r ends one) and columns in
// characters.
func offsetPos(file string, data []byte, off int) Pos {
	data = data[:off]
	line, start := 1, 0
	for i, c := range data {
		if c == '\n' || c == '\r' && (i+1 == len(data) || data[i+1] != '\n') {
			line, start = line+1, i+1
		}
	}
	return Pos{File: file, Line: line, Col: utf8.RuneCount(data[start:]) + 1}
}

func indexes(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

var library = sync.OnceValue(func() []Scenario {
	data, err := libraryFS.ReadFile("library/defaults.yaml")
	if err != nil {
		panic("scenarios: embedded library: " + err.Error())
	}
	list, err := Parse(LibraryFile, data)
	if err != nil {
		panic("scenarios: embedded library is invalid:\n" + err.Error())
	}
	return list
})

// Library returns the embedded default library (library/defaults.yaml): one
// scenario per reference prefix, so that a merchant picks a behaviour just by
// how they name a reference (PAID-1, DELAY-1, BADSIG-1, ...). It is parsed
// once; an invalid library is a bug of this package, caught by its tests, so
// Library panics on it.
//
// Each call returns a new slice, but the scenarios' own slices and maps are
// shared between calls and must not be modified.
func Library() []Scenario { return slices.Clone(library()) }
