package mock

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/store"
	"github.com/gorilla/mux"
	"rsc.io/qr"
)

// The hosted payment page: what a customer sees at the paymentDest of a
// REDIRECT channel, and what the dashboard offers for every payment (a
// DEEPLINK opens no app on a developer's machine; a VA or QRIS payment has
// no page of its own at BJPAY, so the page shows the number or the QR code
// with a button that simulates the customer paying).
//
// [sandbox] BJPAY documents no hosted page; this one is the sandbox's. Pay
// marks the payment PAID and Cancel FAILED, each with its notify, then the
// browser is sent to finishReturnUrl exactly as the merchant gave it (303
// See Other): nothing is appended, since BJPAY documents no query
// parameters and the merchant learns the result from the notify.

// payView is what the hosted page shows.
type payView struct {
	Title     string
	Tx        store.Transaction
	Merchant  string
	Channel   *Channel
	Kind      string // redirect, deeplink, va, qris
	Open      bool   // PENDING and not past expiredAt: the buttons show
	Expired   bool   // past expiredAt on the sandbox clock, whatever the status says
	Remaining time.Duration
	Speed     float64 // how fast the sandbox clock runs; 0 when virtual (the countdown stands still)
	Message   string  // after a refused action
}

// payKind names what the page shows, as destGen.dest chose paymentDest.
func payKind(tx *store.Transaction, ch *Channel) string {
	switch {
	case tx.PaymentDestType == DestRedirect:
		return "redirect"
	case tx.PaymentDestType == DestDeeplink:
		return "deeplink"
	case ch != nil && ch.PaymentType == "QRIS":
		return "qris"
	default:
		return "va"
	}
}

// payState loads the page's transaction, or renders the 404 page.
func (s *Sandbox) payState(w http.ResponseWriter, r *http.Request) (payView, bool) {
	number := mux.Vars(r)["transactionNumber"]
	tx, err := s.store.GetByNumber(r.Context(), number)
	if err != nil {
		s.notFound(w, fmt.Sprintf("There is no payment %q here. The link may be from another sandbox run, or the sandbox was reset.", number))
		return payView{}, false
	}
	ch := s.channels[tx.PaymentCode]
	v := payView{Title: "Pay " + rupiah(tx.TotalAmount), Tx: tx, Channel: ch, Kind: payKind(&tx, ch)}
	if m := s.merchants.get(r.Context(), tx.ClientID); m != nil {
		v.Merchant = m.Name
	}
	clock, _ := s.clocks.of(tx.ClientID)
	now := clock.Now()
	v.Remaining = tx.ExpiredAt.Sub(now).Truncate(time.Second)
	v.Expired = v.Remaining <= 0
	v.Open = tx.Status == store.StatusPending && !v.Expired
	if clock.Mode() == ClockReal {
		v.Speed = clock.Speed()
	}
	return v, true
}

func (s *Sandbox) payPage(w http.ResponseWriter, r *http.Request) {
	if v, ok := s.payState(w, r); ok {
		s.render(w, http.StatusOK, "pay", v)
	}
}

// payAction is the page's form: action=pay or action=cancel.
func (s *Sandbox) payAction(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	action := r.PostFormValue("action")
	v, ok := s.payState(w, r)
	if ok {
		// The page is public; its form is posted from the page itself, never
		// from another site's (guard.go).
		if err := checkSite(r); err != nil {
			v.Message = err.(*Error).Msg
			s.render(w, http.StatusForbidden, "pay", v)
			return
		}
	}
	if !ok {
		return
	}
	to := map[string]string{"pay": store.StatusPaid, "cancel": store.StatusFailed}[action]
	switch {
	case to == "":
		v.Message = fmt.Sprintf("The form sent action %q; expected pay or cancel.", action)
		s.render(w, http.StatusBadRequest, "pay", v)
		return
	case v.Tx.Status == store.StatusPending && v.Expired:
		v.Message = "This payment has expired; it can no longer be paid or cancelled."
		s.render(w, http.StatusConflict, "pay", v)
		return
	}
	tx, err := s.transition(r.Context(), idOf(&v.Tx), to, "hosted payment page")
	var e *Error
	switch {
	case errors.As(err, &e) && e.Kind == KindConflict:
		v.Tx, v.Open = tx, false
		v.Message = fmt.Sprintf("This payment is already %s; nothing was changed.", v.Tx.Status)
		s.render(w, http.StatusConflict, "pay", v)
		return
	case errors.As(err, &e):
		v.Message = e.Msg
		s.render(w, statusOf(e), "pay", v)
		return
	}
	target := tx.FinishReturnURL
	if target == "" { // nowhere to return to: show the result here
		target = ControlPrefix + "/pay/" + tx.TransactionNumber
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// payQR renders a QRIS payment's string as a QR code, in SVG: sharp at any
// size, a few kilobytes, no image library.
func (s *Sandbox) payQR(w http.ResponseWriter, r *http.Request) {
	v, ok := s.payState(w, r)
	if !ok {
		return
	}
	if v.Kind != "qris" {
		s.notFound(w, fmt.Sprintf("Payment %s is not a QRIS payment; it has no QR code.", v.Tx.TransactionNumber))
		return
	}
	code, err := qr.Encode(v.Tx.PaymentDest, qr.M)
	if err != nil {
		s.notFound(w, fmt.Sprintf("The QR string of payment %s cannot be encoded: %v", v.Tx.TransactionNumber, err))
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(qrSVG(code))
}

// qrSVG draws a QR code with a four-module quiet zone, one path of
// unit squares.
func qrSVG(c *qr.Code) []byte {
	const quiet = 4
	n := c.Size + 2*quiet
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges" role="img" aria-label="QRIS code"><rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n, n, n)
	for y := 0; y < c.Size; y++ {
		for x := 0; x < c.Size; x++ {
			if c.Black(x, y) {
				fmt.Fprintf(&b, "M%d %dh1v1h-1z", x+quiet, y+quiet)
			}
		}
	}
	b.WriteString(`"/></svg>`)
	return []byte(b.String())
}
