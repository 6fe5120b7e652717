package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"
)

// Positions records where a decoded mapping and each of its keys' values
// stood in the file, so that validation, which runs after decoding, can point
// at the exact line and column of a bad value. A struct gets one by declaring
// an exported field of type Positions tagged `yaml:"-"`; Decode fills it.
// The mapping itself is under "", a key's value under the key, and each item
// of a list value under key[i] (retries[2]).
type Positions map[string]Pos

// Of returns the position of field's value, or of the mapping itself when the
// field was not written in the file (a missing required field is reported
// where it should have been).
func (p Positions) Of(field string) Pos {
	if pos, ok := p[field]; ok {
		return pos
	}
	return p[""]
}

var (
	positionsType = reflect.TypeFor[Positions]()
	durationType  = reflect.TypeFor[time.Duration]()
	stringType    = reflect.TypeFor[string]()
	timeType      = reflect.TypeFor[time.Time]()
)

// Decode decodes the YAML document in data into v, a pointer to a struct,
// strictly: unknown keys, duplicate keys, wrong types and bad values are all
// errors, reported together as an ErrorList of file:line:col messages sorted
// by position. Keys are matched as yaml.v3 matches them: the `yaml` tag's
// name, else the field name in lower case (the ",inline" option is not
// supported). Anchors, aliases and merge keys (<<) work as in yaml.v3, but
// what aliases add to the document is bounded by MaxAliasText and
// MaxAliasNodes, and crossing either is reported at the alias.
// Scalars are converted by yaml.v3's rules, except that a number with a
// fractional part, or one out of range, is never accepted for an integer.
//
// It walks the node tree itself rather than relying on
// yaml.Decoder.KnownFields, because (*yaml.Node).Decode ignores that setting
// and because a walk can keep going after the first problem.
//
// A v that is not a non-nil pointer is a programming error; Decode returns a
// plain error for it, not an ErrorList.
func Decode(file string, data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("scenarios: Decode needs a non-nil pointer, got %T", v)
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) { // nothing but blanks and comments
			return ErrorList{emptyFile(file)}
		}
		return ErrorList{syntaxError(file, data, err)}
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" && root.Value == "" {
		// A lone "---": as empty as no text at all, and not worth a different
		// message.
		return ErrorList{emptyFile(file)}
	}

	var errs ErrorList
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		errs.Add(nodePos(file, &extra), msgSecondDocument)
	case !errors.Is(err, io.EOF):
		// The first document was fine but the text after it is not YAML;
		// report that rather than drop it.
		errs = append(errs, syntaxError(file, data, err))
	}
	d := decoder{
		file:      file,
		errs:      &errs,
		expanding: map[*yaml.Node]*yaml.Node{},
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		// An explicit null at the top would otherwise leave v untouched
		// without a word.
		d.fail(root, "", msgWrongType, "a mapping", describe(root))
	} else {
		d.value(root, rv.Elem(), "")
	}
	errs.Sort()
	return errs.Err()
}

func emptyFile(file string) *Error {
	return &Error{Pos: Pos{File: file, Line: 1, Col: 1}, Msg: msgEmptyFile}
}

func nodePos(file string, n *yaml.Node) Pos { return Pos{File: file, Line: n.Line, Col: n.Column} }

// decoder walks one document's node tree into a Go value, recording every
// problem in errs and carrying on.
type decoder struct {
	file string
	errs *ErrorList
	// expanding maps each anchored node being decoded through an alias to
	// that alias. It catches an alias inside its own anchor (yaml.v3 builds
	// such a node graph with a cycle; following it would never end), and it
	// lets a problem with the aliased value as a whole, such as a mapping
	// where a number belongs, be reported where the alias is used.
	expanding map[*yaml.Node]*yaml.Node
	// outer is the alias being expanded that is written in the document
	// itself (not inside an anchored value), nil when none is: what aliases
	// add to the document is counted while it is set, and a limit crossed
	// is reported there.
	outer *yaml.Node
	// aliasText and aliasNodes are what aliases have added so far: bytes of
	// keys and scalars, and values. Without a bound a document grows
	// exponentially with aliases of aliases ("billion laughs"), or by the
	// length of a long value with each alias to it; yaml.v3 guards against
	// the first only when it decodes into Go values itself.
	aliasText, aliasNodes int
	// over is set once a limit is crossed: the walk stops there.
	over bool
}

// spend counts n against the limits on what aliases add, when it is being
// decoded through an alias, and reports whether the walk may go on; the
// first time it may not, it says why, at the alias.
func (d *decoder) spend(n *yaml.Node) bool {
	if d.outer == nil || d.over {
		return !d.over
	}
	d.aliasNodes++
	if n.Kind == yaml.ScalarNode {
		d.aliasText += len(n.Value)
	}
	switch {
	case d.aliasText > MaxAliasText:
		d.over = true
		d.errs.Add(nodePos(d.file, d.outer), msgAliasText, d.outer.Value, d.aliasText, MaxAliasText)
	case d.aliasNodes > MaxAliasNodes:
		d.over = true
		d.errs.Add(nodePos(d.file, d.outer), msgAliasNodes, d.outer.Value, MaxAliasNodes)
	}
	return !d.over
}

// through runs f as part of the expansion of alias via, when via is not
// nil and no other is under way: for the values a merge key brought in,
// which are decoded after the merge has been followed.
func (d *decoder) through(via *yaml.Node, f func()) {
	if via == nil || d.outer != nil {
		f()
		return
	}
	d.outer = via
	defer func() { d.outer = nil }()
	f()
}

func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if path != "" {
		msg = path + ": " + msg
	}
	d.errs.Add(d.pos(n), "%s", msg)
}

// pos is where n is in the file, or where it is used when it is being
// decoded through an alias.
func (d *decoder) pos(n *yaml.Node) Pos {
	if alias := d.expanding[n]; alias != nil {
		n = alias
	}
	return nodePos(d.file, n)
}

// follow calls f with the node an alias stands for, or with n itself, unless
// the alias is being expanded already.
func (d *decoder) follow(n *yaml.Node, path string, f func(*yaml.Node)) {
	if n.Kind != yaml.AliasNode {
		f(n)
		return
	}
	if d.expanding[n.Alias] != nil {
		d.fail(n, path, msgAliasCycle, n.Value)
		return
	}
	d.expanding[n.Alias] = n
	defer delete(d.expanding, n.Alias)
	d.through(n, func() { f(n.Alias) })
}

func (d *decoder) value(n *yaml.Node, v reflect.Value, path string) {
	if !d.spend(n) {
		return
	}
	if n.Kind == yaml.AliasNode {
		d.follow(n, path, func(n *yaml.Node) { d.value(n, v, path) })
		return
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		v.Set(reflect.Zero(v.Type()))
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		d.value(n, p.Elem(), path)
		v.Set(p)
	case reflect.Struct:
		if v.Type() == timeType {
			d.scalar(n, v, path)
			return
		}
		d.structure(n, v, path)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.fail(n, path, msgWrongType, "a list", describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.value(item, s.Index(i), path+"["+strconv.Itoa(i)+"]")
		}
		v.Set(s)
	case reflect.Map:
		d.dictionary(n, v, path)
	default:
		d.scalar(n, v, path)
	}
}

// structure decodes a mapping into a struct, rejecting unknown keys.
func (d *decoder) structure(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, msgWrongType, "a mapping", describe(n))
		return
	}
	info := fieldsOf(v.Type())
	var at Positions
	if info.positions >= 0 {
		at = Positions{"": d.pos(n)}
		v.Field(info.positions).Set(reflect.ValueOf(at))
	}
	for _, e := range d.entries(n, path, true) {
		if e.key.Kind != yaml.ScalarNode {
			d.fail(e.key, "", "%s", keyNotScalarMsg(path, describe(e.key)))
			continue
		}
		name := e.key.Value
		idx, ok := info.byName[name]
		if !ok {
			// Merged keys are checked too: the anchored mapping they come
			// from may have been decoded as another type, or not at all.
			d.fail(e.key, "", "%s", unknownKeyMsg(name, path, info.names))
			continue
		}
		if at != nil {
			at[name] = nodePos(d.file, e.val)
			recordItems(at, name, d.file, e.val)
		}
		d.through(e.via, func() { d.value(e.val, v.Field(idx), joinPath(path, name)) })
	}
}

// recordItems records where each item of a list value stands, as name[i], so
// that validation can point at one bad item rather than at the whole list.
// The items of an aliased list are where the anchor writes them.
func recordItems(at Positions, name, file string, n *yaml.Node) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind != yaml.SequenceNode {
		return
	}
	for i, item := range n.Content {
		at[name+"["+strconv.Itoa(i)+"]"] = nodePos(file, item)
	}
}

// dictionary decodes a mapping into a Go map.
func (d *decoder) dictionary(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, msgWrongType, "a mapping", describe(n))
		return
	}
	entries := d.entries(n, path, true)
	m := reflect.MakeMapWithSize(v.Type(), len(entries))
	for _, e := range entries {
		if e.key.Kind != yaml.ScalarNode {
			d.fail(e.key, "", "%s", keyNotScalarMsg(path, describe(e.key)))
			continue
		}
		p := mapPath(path, e.key.Value)
		key := reflect.New(v.Type().Key()).Elem()
		d.scalar(e.key, key, p)
		elem := reflect.New(v.Type().Elem()).Elem()
		d.through(e.via, func() { d.value(e.val, elem, p) })
		m.SetMapIndex(key, elem)
	}
	v.Set(m)
}

// entry is one key and its value in a mapping.
type entry struct {
	key, val *yaml.Node
	via      *yaml.Node // the alias it was reached through, if any
}

// entries lists the keys of mapping n once each, with keys from merge keys
// (<<) expanded after those written in n. As in yaml.v3, a key written in n
// wins over a merged one, and among merged mappings the first listed wins.
// A key written twice in n is reported when report is set; merge leaves it
// to the place where the merged mapping is written.
func (d *decoder) entries(n *yaml.Node, path string, report bool) []entry {
	var own, merged []entry
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if !d.spend(k) {
			return nil
		}
		if k.Kind == yaml.AliasNode && k.Alias != nil {
			k = k.Alias // an aliased key is its anchor's text
		}
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			merged = append(merged, d.merge(val, path)...)
			continue
		}
		own = append(own, entry{key: k, val: val, via: d.outer})
	}
	first := make(map[string]*yaml.Node, len(own)+len(merged))
	out := make([]entry, 0, len(own)+len(merged))
	for _, e := range own {
		if e.key.Kind == yaml.ScalarNode {
			if f, dup := first[e.key.Value]; dup {
				if report {
					d.fail(e.key, "", "%s", duplicateKeyMsg(e.key.Value, path, f.Line))
				}
				continue
			}
			first[e.key.Value] = e.key
		}
		out = append(out, e)
	}
	for _, e := range merged {
		if e.key.Kind == yaml.ScalarNode {
			if _, dup := first[e.key.Value]; dup {
				continue
			}
			first[e.key.Value] = e.key
		}
		out = append(out, e)
	}
	return out
}

// merge returns the entries a merge key's value brings in: those of a
// mapping, or of each mapping in a list.
func (d *decoder) merge(val *yaml.Node, path string) []entry {
	var out []entry
	add := func(n *yaml.Node) {
		if n.Kind != yaml.MappingNode {
			d.fail(n, path, msgBadMerge, describe(n))
			return
		}
		out = append(out, d.entries(n, path, false)...)
	}
	d.follow(val, path, func(n *yaml.Node) {
		if n.Kind != yaml.SequenceNode {
			add(n)
			return
		}
		for _, item := range n.Content {
			d.follow(item, path, add)
		}
	})
	return out
}

// scalar decodes a leaf with yaml.v3's own rules (which include durations
// such as "90s"), turning its terse type errors into a message that says what
// was expected and what was found.
func (d *decoder) scalar(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.fail(n, path, msgWrongType, expected(v.Type(), n), describe(n))
		return
	}
	if n.Tag == "!!float" && isInteger(v.Type()) && !fitsInteger(n, v.Type()) {
		// yaml.v3 would store 1.5 as 1, and 1e19 as a negative number.
		d.fail(n, path, msgWrongType, expected(v.Type(), n), describe(n))
		return
	}
	// The two commonest cases without yaml.v3's decoder, which costs a
	// few allocations a scalar; it gives the same values.
	switch {
	case v.Type() == stringType && n.Tag == "!!str":
		v.SetString(n.Value)
		return
	case v.Type() == durationType && n.Tag == "!!str":
		if dur, err := time.ParseDuration(n.Value); err == nil {
			v.SetInt(int64(dur))
			return
		}
	}
	p := reflect.New(v.Type())
	if err := n.Decode(p.Interface()); err != nil {
		d.fail(n, path, msgWrongType+"%s", expected(v.Type(), n), describe(n), hint(v.Type(), n))
		return
	}
	v.Set(p.Elem())
}

// isInteger reports whether t holds whole numbers. A time.Duration does not:
// it takes "90s", and yaml.v3 rejects a bare number for it.
func isInteger(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return t != durationType
	}
	return false
}

// fitsInteger reports whether the !!float n is a whole number in the range of
// the integer type t.
func fitsInteger(n *yaml.Node, t reflect.Type) bool {
	f, ok := wholeFloat(n)
	if !ok {
		return false
	}
	switch t.Kind() {
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return f >= 0 && f < math.Ldexp(1, t.Bits())
	}
	limit := math.Ldexp(1, t.Bits()-1)
	return f >= -limit && f < limit
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// mapPath names a map entry: labels.team, or labels["a.b"] when the key
// would not read as one path element.
func mapPath(path, key string) string {
	for _, r := range key {
		if !(r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return fmt.Sprintf("%s[%q]", path, key)
		}
	}
	if key == "" {
		return path + `[""]`
	}
	return joinPath(path, key)
}

// structInfo is what Decode needs to know about a struct type.
type structInfo struct {
	byName    map[string]int // key -> field index
	names     []string       // keys in field order, for "expected one of"
	positions int            // index of the Positions field, or -1
}

var fieldCache sync.Map // reflect.Type -> *structInfo

func fieldsOf(t reflect.Type) *structInfo {
	if info, ok := fieldCache.Load(t); ok {
		return info.(*structInfo)
	}
	info := &structInfo{byName: map[string]int{}, positions: -1}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue // as in yaml.v3; reflect could not set it anyway
		}
		if f.Type == positionsType {
			info.positions = i
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name) // yaml.v3's default key
		}
		info.byName[name] = i
		info.names = append(info.names, name)
	}
	stored, _ := fieldCache.LoadOrStore(t, info)
	return stored.(*structInfo)
}
