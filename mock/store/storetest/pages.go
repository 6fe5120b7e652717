package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/bjpay/bjpay-sandbox/mock/delivery"
	"github.com/bjpay/bjpay-sandbox/mock/store"
)

// listAll follows a list's cursors from the first page to the last, with
// pages of limit, and returns each page's keys.
func listAll[T any](t *testing.T, limit int, list func(cursor string) ([]T, string, error), key func(T) string) [][]string {
	t.Helper()
	var pages [][]string
	cursor := ""
	for range 100 {
		got, next, err := list(cursor)
		if err != nil {
			t.Fatalf("page %d: %v", len(pages)+1, err)
		}
		if len(got) > limit {
			t.Errorf("page %d has %d entries, limit %d", len(pages)+1, len(got), limit)
		}
		page := []string{}
		for _, v := range got {
			page = append(page, key(v))
		}
		pages = append(pages, page)
		if next == "" {
			return pages
		}
		cursor = next
	}
	t.Fatal("more than 100 pages: the cursors go round")
	return nil
}

func testListPages(t *testing.T, s store.Store) {
	var want, wantA []string // newest first
	for i := range 7 {
		owner := []string{"a", "b"}[i%3/2] // a, a, b, a, a, b, a
		tx := mustCreate(t, s, owner, fmt.Sprintf("P%d", i))
		want = append([]string{tx.ReferenceNumber}, want...)
		if owner == "a" {
			wantA = append([]string{tx.ReferenceNumber}, wantA...)
		}
	}
	ref := func(tx store.Transaction) string { return tx.ReferenceNumber }
	for _, tt := range []struct {
		name   string
		f      store.Filter
		limit  int
		want   []string
		npages int
	}{
		{"all, pages of 3", store.Filter{}, 3, want, 3},
		{"all, pages of 7", store.Filter{}, 7, want, 1}, // exactly one page: no cursor to an empty one
		{"all, pages of 100", store.Filter{}, 100, want, 1},
		{"one merchant, pages of 2", store.Filter{ClientID: "a"}, 2, wantA, 3},
		{"a filter that skips most, pages of 1", store.Filter{Reference: "P5"}, 1, []string{"P5"}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pages := listAll(t, tt.limit, func(c string) ([]store.Transaction, string, error) {
				f := tt.f
				f.Page = store.Page{Limit: tt.limit, Cursor: c}
				return s.List(ctx, f)
			}, ref)
			if got := slices.Concat(pages...); !slices.Equal(got, tt.want) || len(pages) != tt.npages {
				t.Errorf("pages %q, want %q in %d page(s)", pages, tt.want, tt.npages)
			}
		})
	}
	// A page's cursor still works after newer transactions were created:
	// the next page goes on below it.
	first, next, _ := s.List(ctx, store.Filter{Page: store.Page{Limit: 2}})
	mustCreate(t, s, "a", "P-NEW")
	rest, _, _ := s.List(ctx, store.Filter{Page: store.Page{Limit: 100, Cursor: next}})
	if got := slices.Concat(mapOf(first, ref), mapOf(rest, ref)); !slices.Equal(got, want) {
		t.Errorf("pages across a create: %q, want %q", got, want)
	}
	for _, c := range []string{"nonsense", "x", "!", "t"} {
		if _, _, err := s.List(ctx, store.Filter{Page: store.Page{Cursor: c}}); !errors.Is(err, store.ErrBadCursor) {
			t.Errorf("List with cursor %q: %v, want ErrBadCursor", c, err)
		}
	}
}

func mapOf[T any](vs []T, f func(T) string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = f(v)
	}
	return out
}

func testJournalPages(t *testing.T, s store.Store) {
	mustCreate(t, s, "a", "J1")
	var want, wantJ1 []string // newest first
	for i := range 8 {
		ref := []string{"J1", "J2"}[i%2]
		id := fmt.Sprintf("dlv_%d", s.NextDeliveryID())
		if err := s.RecordAttempt(ctx, delivery.Attempt{DeliveryID: id, ClientID: "a", ReferenceNumber: ref, Outcome: delivery.OutcomeDelivered}, nil); err != nil {
			t.Fatal(err)
		}
		want = append([]string{id}, want...)
		if ref == "J1" {
			wantJ1 = append([]string{id}, wantJ1...)
		}
	}
	id := func(a delivery.Attempt) string { return a.DeliveryID }
	for _, tt := range []struct {
		name  string
		f     store.AttemptFilter
		limit int
		want  []string
	}{
		{"all, pages of 3", store.AttemptFilter{}, 3, want},
		{"all, pages of 8", store.AttemptFilter{}, 8, want},
		{"a held payment's reference, pages of 3", store.AttemptFilter{ClientID: "a", Reference: "J1"}, 3, wantJ1},
		{"a reference no payment holds, pages of 1", store.AttemptFilter{Reference: "J2"}, 1, slices.DeleteFunc(slices.Clone(want), func(s string) bool { return slices.Contains(wantJ1, s) })},
		{"another merchant's", store.AttemptFilter{ClientID: "b"}, 2, []string{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pages := listAll(t, tt.limit, func(c string) ([]delivery.Attempt, string, error) {
				f := tt.f
				f.Page = store.Page{Limit: tt.limit, Cursor: c}
				return s.Attempts(ctx, f)
			}, id)
			if got := slices.Concat(pages...); !slices.Equal(got, tt.want) || len(pages) != max(1, (len(tt.want)+tt.limit-1)/tt.limit) {
				t.Errorf("pages %q, want %q", pages, tt.want)
			}
		})
	}
	for _, c := range []string{"nonsense", "x", "a"} {
		if _, _, err := s.Attempts(ctx, store.AttemptFilter{Page: store.Page{Cursor: c}}); !errors.Is(err, store.ErrBadCursor) {
			t.Errorf("Attempts with cursor %q: %v, want ErrBadCursor", c, err)
		}
	}
}

func testNotified(t *testing.T, s store.Store) {
	mustCreate(t, s, "a", "N1")
	mustCreate(t, s, "a", "N2")
	for _, o := range []string{delivery.OutcomeRetrying, delivery.OutcomeRetrying, delivery.OutcomeDelivered} {
		_ = s.RecordAttempt(ctx, delivery.Attempt{DeliveryID: "dlv_1", ClientID: "a", ReferenceNumber: "N1", Outcome: o}, nil)
	}
	for _, tt := range []struct {
		clientID, ref string
		want          store.Notified
	}{
		{"a", "N1", store.Notified{Attempts: 3, Last: delivery.OutcomeDelivered}},
		{"a", "N2", store.Notified{}},
		{"b", "N1", store.Notified{}},
		{"a", "NONE", store.Notified{}},
	} {
		if got, err := s.Notified(ctx, tt.clientID, tt.ref); err != nil || got != tt.want {
			t.Errorf("Notified(%s, %s) = %+v, %v; want %+v", tt.clientID, tt.ref, got, err, tt.want)
		}
	}
}
