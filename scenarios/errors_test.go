package scenarios

import "testing"

func TestPosString(t *testing.T) {
	for _, tc := range []struct {
		name string
		pos  Pos
		want string
	}{
		{"file, line and column", Pos{File: "f", Line: 3, Col: 7}, "f:3:7"},
		{"no column", Pos{File: "f", Line: 3}, "f:3"},
		{"file only", Pos{File: "f"}, "f"},
		{"column without a line is left out", Pos{File: "f", Col: 7}, "f"},
		{"no file", Pos{Line: 3, Col: 7}, "3:7"},
		{"nothing known", Pos{}, "-"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.pos.String(); got != tc.want {
				t.Errorf("%#v.String() = %q, want %q", tc.pos, got, tc.want)
			}
		})
	}
}

func TestErrorListErr(t *testing.T) {
	var empty ErrorList
	if err := empty.Err(); err != nil {
		t.Errorf("empty ErrorList.Err() = %v, want nil", err)
	}
	if got, want := empty.Error(), "no errors"; got != want {
		t.Errorf("empty ErrorList.Error() = %q, want %q", got, want)
	}

	var l ErrorList
	l.Add(Pos{File: "f", Line: 2, Col: 1}, "unknown key %q", "x")
	err := l.Err()
	if err == nil {
		t.Fatal("ErrorList.Err() = nil with one error, want the list")
	}
	if got, want := err.Error(), `f:2:1: unknown key "x"`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

func TestErrorListSort(t *testing.T) {
	l := ErrorList{
		{Pos: Pos{File: "b", Line: 1, Col: 1}, Msg: "b1"},
		{Pos: Pos{File: "a", Line: 10, Col: 1}, Msg: "a10"},
		{Pos: Pos{File: "a", Line: 2, Col: 5}, Msg: "a2:5"},
		{Pos: Pos{File: "a", Line: 2}, Msg: "a2 first"},
		{Pos: Pos{File: "a", Line: 2}, Msg: "a2 second"}, // ties keep their order
		{Pos: Pos{File: "a", Line: 2, Col: 1}, Msg: "a2:1"},
	}
	l.Sort()
	const want = "a:2: a2 first\na:2: a2 second\na:2:1: a2:1\na:2:5: a2:5\na:10:1: a10\nb:1:1: b1"
	if got := l.Error(); got != want {
		t.Errorf("sorted:\ngot\n%s\nwant\n%s", got, want)
	}
}
