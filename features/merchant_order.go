package features

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// orderState is the merchant's view of an order, as its order status
// answer shows it.
type orderState struct {
	status string
	// credited is the number at merchant.orderStatus.credited, when the
	// driver file names one.
	credited    float64
	hasCredited bool
	read        *exchange // the read it came from
}

func (s orderState) String() string {
	if s.hasCredited {
		return fmt.Sprintf("status %q, credited %s", s.status, strconv.FormatFloat(s.credited, 'f', -1, 64))
	}
	return fmt.Sprintf("status %q", s.status)
}

// pollEvery is the pause between two reads of an order.
const pollEvery = 100 * time.Millisecond

// readOrder reads the order's state once.
func (w *merchantWorld) readOrder(ctx context.Context) (orderState, error) {
	o := w.c.Merchant.OrderStatus
	var u bytes.Buffer
	if err := o.url.Execute(&u, OrderData{ReferenceNumber: w.ref}); err != nil {
		return orderState{}, err
	}
	x := send(ctx, w.c.Client, w.c.Merchant.Timeout, o.Method, u.String(), nil, nil)
	w.record(titleOrderStatus, x)
	if x.err != nil || x.status/100 != 2 {
		return orderState{}, failf(causeOrderStatus, "expected the merchant's order status to answer 2xx for order %s, which its checkout created, but it did not:\n%s", w.ref, x)
	}
	st := orderState{read: x}
	var err error
	if st.status, err = field(x.body, o.Status); err != nil {
		return orderState{}, failf(causeOrderStatus, "expected the order status answer to hold the status at %q (merchant.orderStatus.status): %v\n%s", o.Status, err, x)
	}
	if o.Credited != "" {
		v, err := field(x.body, o.Credited)
		if err == nil {
			st.credited, err = strconv.ParseFloat(v, 64)
		}
		if err != nil {
			return orderState{}, failf(causeOrderStatus, "expected the order status answer to hold a number at %q (merchant.orderStatus.credited): %v\n%s", o.Credited, err, x)
		}
		st.hasCredited = true
	}
	return st, nil
}

// until reads the order until ok holds or merchant.orderStatus.within has
// passed: a merchant may apply a notify after it acknowledged it. It
// returns the last state read and whether ok held.
func (w *merchantWorld) until(ctx context.Context, ok func(orderState) bool) (orderState, bool, error) {
	deadline := time.Now().Add(w.c.Merchant.OrderStatus.Within)
	for {
		st, err := w.readOrder(ctx)
		if err != nil || ok(st) {
			return st, err == nil, err
		}
		if time.Now().After(deadline) {
			return st, false, nil
		}
		if err := sleepUntil(ctx, time.Now().Add(pollEvery)); err != nil {
			return st, false, err
		}
	}
}

// through reads the order until merchant.orderStatus.within has passed,
// and stops at the first state for which ok does not hold: a notify the
// merchant queued may change the order late. It returns the last state
// read and whether ok held throughout.
func (w *merchantWorld) through(ctx context.Context, ok func(orderState) bool) (orderState, bool, error) {
	deadline := time.Now().Add(w.c.Merchant.OrderStatus.Within)
	for {
		st, err := w.readOrder(ctx)
		if err != nil || !ok(st) {
			return st, false, err
		}
		if time.Now().After(deadline) {
			return st, true, nil
		}
		if err := sleepUntil(ctx, time.Now().Add(pollEvery)); err != nil {
			return st, false, err
		}
	}
}

// becomesPaid reads the order until it is paid. Without orderStatus there
// is nothing to read and the check is not made (the run's summary says so).
func (w *merchantWorld) becomesPaid(ctx context.Context) error {
	o := w.c.Merchant.OrderStatus
	if o == nil {
		return nil
	}
	st, ok, err := w.until(ctx, func(st orderState) bool { return st.status == o.Paid })
	if err != nil || ok {
		return err
	}
	return failf(causeNotApplied, "expected the merchant's order %s to become paid (status %q) within %s (merchant.orderStatus.within), but it reads %s\n%s%s", w.ref, o.Paid, o.Within, st, st.read, w.lastNotifyText())
}

// staysPaid reads the order through the window: it must stay paid.
func (w *merchantWorld) staysPaid(ctx context.Context) error {
	o := w.c.Merchant.OrderStatus
	if o == nil {
		return nil
	}
	st, ok, err := w.through(ctx, func(st orderState) bool { return st.status == o.Paid })
	if err != nil || ok {
		return err
	}
	return fmt.Errorf("expected the merchant's order %s to stay paid (status %q) for %s (merchant.orderStatus.within), but it came to read %s: a later notify undid a payment\n%s%s", w.ref, o.Paid, o.Within, st, st.read, w.lastNotifyText())
}

// staysUnpaid reads the order through the window: it must never be paid.
func (w *merchantWorld) staysUnpaid(ctx context.Context) error {
	o := w.c.Merchant.OrderStatus
	if o == nil {
		return nil
	}
	st, ok, err := w.through(ctx, func(st orderState) bool { return st.status != o.Paid })
	if err != nil || ok {
		return err
	}
	return fmt.Errorf("expected the merchant's order %s never to be paid within %s (merchant.orderStatus.within), but it came to read %s\n%s%s", w.ref, o.Within, st, st.read, w.lastNotifyText())
}

// staysAsItWas reads the order through the window: its status and credits
// must stay as they were when the payment was made.
func (w *merchantWorld) staysAsItWas(ctx context.Context) error {
	o := w.c.Merchant.OrderStatus
	if o == nil || w.before == nil {
		return nil
	}
	was := *w.before
	st, ok, err := w.through(ctx, func(st orderState) bool { return st.status == was.status && st.credited == was.credited })
	if err != nil || ok {
		return err
	}
	return fmt.Errorf("expected the merchant's order %s to stay as it was (%s) for %s (merchant.orderStatus.within), since the notify must change nothing, but it came to read %s\n%s%s", w.ref, was, o.Within, st, st.read, w.lastNotifyText())
}

// creditedOnce checks that the notify and its duplicate credited the order
// once: merchant.orderStatus.credited ends where one credit takes it, and
// never goes further, through the window.
func (w *merchantWorld) creditedOnce(ctx context.Context) error {
	o := w.c.Merchant.OrderStatus
	if o == nil || o.Credited == "" || w.before == nil {
		return nil
	}
	base := w.before.credited
	var once float64 // the value one credit gives
	switch {
	case w.afterFirst != nil:
		once = w.afterFirst.credited
	default:
		// Sent at the same time, the two give no moment between them to
		// read: one credit is measured on a twin order.
		delta, err := w.oneCredit(ctx)
		if err != nil {
			return err
		}
		once = base + delta
	}
	st, ok, err := w.through(ctx, func(st orderState) bool { return st.credited == base || st.credited == once })
	if err == nil && ok && st.credited != once {
		ok = false
	}
	if err != nil || ok {
		return err
	}
	return failf(causeDoubleCredit, "expected the order's %s (merchant.orderStatus.credited) to read %s after the two notifies, as one credit makes it, and to stay so for %s (merchant.orderStatus.within), but it came to read %s: the duplicate was credited again\n%s  first notify:\n%s  duplicate:\n%s",
		o.Credited, strconv.FormatFloat(once, 'f', -1, 64), o.Within, strconv.FormatFloat(st.credited, 'f', -1, 64), st.read, w.pair[0], w.pair[1])
}

// oneCredit pays a twin order, of the same amount and channel, with one
// valid PAID notify, and returns how much that moved its credited value.
func (w *merchantWorld) oneCredit(ctx context.Context) (float64, error) {
	twin := &merchantWorld{c: w.c, api: w.api, scenario: w.scenario}
	if err := twin.checkout(ctx, w.amount, w.code); err != nil {
		return 0, fmt.Errorf("one credit is measured on a twin order: %w", err)
	}
	if err := twin.notify(ctx, map[string]any{"status": "PAID"}); err != nil {
		return 0, err
	}
	if err := twin.acknowledges(); err != nil {
		return 0, fmt.Errorf("one credit is measured on a twin order: %w", err)
	}
	was := twin.before.credited
	st, ok, err := twin.until(ctx, func(st orderState) bool { return st.credited != was })
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, failf(causeNotApplied, "one credit is measured on a twin order, %s: expected its %s (merchant.orderStatus.credited) to change within %s of an acknowledged PAID notify, but it stays %s\n%s", twin.ref, w.c.Merchant.OrderStatus.Credited, w.c.Merchant.OrderStatus.Within, st, st.read)
	}
	return st.credited - was, nil
}

// lastNotifyText shows the last notify, for a failure's message.
func (w *merchantWorld) lastNotifyText() string {
	if w.last == nil {
		return ""
	}
	return "last notify:\n" + w.last.String()
}

// field returns the string or number at a dot path ("data.ref") of a JSON
// object.
func field(body []byte, path string) (string, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "", fmt.Errorf("the answer is not JSON: %v", err)
	}
	for _, key := range strings.Split(path, ".") {
		obj, ok := v.(map[string]any)
		if !ok {
			return "", fmt.Errorf("no object at %q", key)
		}
		if v, ok = obj[key]; !ok {
			return "", fmt.Errorf("no field %q", key)
		}
	}
	switch v := v.(type) {
	case string:
		return v, nil
	case json.Number:
		return v.String(), nil
	}
	return "", fmt.Errorf("%v is not a string or a number", v)
}
