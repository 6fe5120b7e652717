package mock

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/bits"
	"time"

	"github.com/bjpay/bjpay-sandbox/mock/notify"
	"github.com/bjpay/bjpay-sandbox/mock/store"
	"github.com/bjpay/bjpay-sandbox/scenarios"
)

// createRequest is the body of Create Payment, as BJPAY documents it.
// [sandbox] Fields BJPAY does not document are ignored, as gateways do.
// encoding/json matches field names case-insensitively; BJPAY's may not.
type createRequest struct {
	PaymentCode         jsonString `json:"paymentCode"`
	ReferenceNumber     jsonString `json:"referenceNumber"`
	CustomerName        jsonString `json:"customerName"`
	CustomerEmail       jsonString `json:"customerEmail"`
	CustomerPhoneNumber jsonString `json:"customerPhoneNumber"`
	FinishNotifyURL     jsonString `json:"finishNotifyUrl"`
	FinishReturnURL     jsonString `json:"finishReturnUrl"`
	ExpiredAt           jsonString `json:"expiredAt"`
	TotalAmount         jsonNumber `json:"totalAmount"`
	Items               jsonItems  `json:"items"`
	// [sandbox] BJPAY documents code 19 but no currency field; the sandbox
	// checks one only when it is sent.
	Currency jsonString `json:"currency"`
}

// maxSafeAmount is the largest integer a JavaScript Number holds exactly;
// BJPAY's own code is JavaScript, so amounts beyond it cannot be trusted.
const maxSafeAmount = 1<<53 - 1

// decodeCreate parses the body. Only a body that is not a JSON object fails
// here; wrong field types are left for validate to report in order.
func decodeCreate(body []byte) (createRequest, error) {
	var req createRequest
	if len(body) == 0 {
		return req, errorf(KindInvalid, "request body is empty; expected a JSON object with the Create Payment fields (paymentCode, referenceNumber, ...)")
	}
	if req, ok := fastDecodeCreate(body); ok {
		return req, nil
	}
	return decodeCreateJSON(body)
}

// decodeCreateJSON is decodeCreate with encoding/json, for every body.
func decodeCreateJSON(body []byte) (createRequest, error) {
	var req createRequest
	if err := json.Unmarshal(body, &req); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return req, errorf(KindInvalid, "request body is not valid JSON: %s at byte offset %d; expected a JSON object", syn.Error(), syn.Offset)
		case errors.As(err, &typ):
			return req, errorf(KindInvalid, "request body is a JSON %s; expected a JSON object with the Create Payment fields", typ.Value)
		default:
			return req, errorf(KindInvalid, "request body is not valid JSON: %s; expected a JSON object", err)
		}
	}
	if bytes.HasPrefix(bytes.TrimLeft(body, " \t\r\n"), []byte("null")) {
		return req, errorf(KindInvalid, "request body is JSON null; expected a JSON object with the Create Payment fields")
	}
	return req, nil
}

// create validates req and stores the new transaction, then plans what
// happens to it. sc is the scenario that matched the request, or nil.
// When the store refuses the payment, nothing of it is left: no expiry,
// no timeline, no notify.
func (s *Sandbox) create(ctx context.Context, m *merchant, req *createRequest, publicURL string, sc *scenarios.Scenario) (store.Transaction, error) {
	v, err := s.validate(m, req)
	if err != nil {
		return store.Transaction{}, err
	}
	now := s.clocks.Now(m.ClientID).In(notify.WIB).Truncate(time.Second)
	ch := v.channel
	fee := feeFor(ch, v.amount)
	number, ref := numberAndRef(now, s.store.NextSeq(), v.ref)
	tx := &store.Transaction{
		TransactionNumber:   number,
		ReferenceNumber:     ref,
		PaymentCode:         ch.PaymentCode,
		PaymentName:         ch.PaymentName,
		CustomerName:        v.name,
		CustomerEmail:       v.email,
		CustomerPhoneNumber: v.phone,
		FinishNotifyURL:     v.notifyURL,
		FinishReturnURL:     v.returnURL,
		ExpiredAt:           v.expiredAt,
		TotalAmount:         v.amount,
		Fee:                 fee,
		TotalReceived:       v.amount - fee,
		PaymentDestType:     ch.PaymentDestType,
		Status:              store.StatusPending,
		Items:               v.items,
		CreatedAt:           now,
		ClientID:            m.ClientID,
		Delivery:            s.policyOf(sc),
	}
	if sc != nil {
		tx.Scenario = sc.Name
	}
	var page string // the hosted page's URL, built only for the channels that send the payer there
	if ch.PaymentDestType == DestRedirect {
		page = publicURL + ControlPrefix + "/pay/" + tx.TransactionNumber
	}
	tx.PaymentDest, tx.PaymentDestName = s.dest.dest(ch, tx, m.Name, page)
	created := *tx // the answer: as created, whatever happens to tx once the store has it
	switch err := s.store.Create(ctx, tx); {
	case errors.Is(err, store.ErrConflict): // lost a race with a create of the same reference
		return store.Transaction{}, errUsed(v.ref)
	case err != nil:
		return store.Transaction{}, s.storeFailed("save payment "+v.ref, err)
	}
	if logs(s.log) {
		s.log.Info("transaction created", "clientId", m.ClientID, "referenceNumber", created.ReferenceNumber,
			"transactionNumber", created.TransactionNumber, "paymentCode", created.PaymentCode, "totalAmount", created.TotalAmount,
			"scenario", created.Scenario)
	}
	s.plan(&created, sc)
	return created, nil
}

// numberAndRef returns the new payment's transaction number and a copy
// of its reference, in one allocation. The scheduler keeps both for as
// long as the payment may expire; ref itself is a slice of the request
// body (fastDecodeCreate), which it would keep alive as long.
func numberAndRef(now time.Time, seq uint64, ref string) (number, refCopy string) {
	var buf [96]byte
	b := store.AppendNumber(buf[:0], now, seq)
	n := len(b)
	both := string(append(b, ref...))
	return both[:n], both[n:]
}

// feeFor is the channel's fee on amount. [sandbox] A PERCENT fee is
// rounded half up to whole rupiah, computed in integers (hundredths of a
// percent) so that 0.7 % of 5500 is exactly 38.5 → 39.
func feeFor(ch *Channel, amount int64) int64 {
	if ch.FeeType != FeePercent {
		return int64(ch.Fee) // whole rupiah, checked by Validate
	}
	bp := uint64(math.Round(ch.Fee * 100)) // at most two decimals, checked by Validate
	// amount < 2^53 and bp ≤ 10000, so hi < 10000 and Div64 cannot panic.
	hi, lo := bits.Mul64(uint64(amount), bp)
	lo, carry := bits.Add64(lo, 5000, 0)
	q, _ := bits.Div64(hi+carry, lo, 10000)
	return int64(q)
}
