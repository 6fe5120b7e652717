package memstore

import (
	"strings"

	"github.com/bjpay/bjpay-sandbox/mock/store"
)

// pack moves tx's own strings into one allocation: a held payment is then
// a handful of objects for the garbage collector to trace, not a dozen.
// Strings shared with the configuration (channel names, client id) stay
// where they are.
func pack(tx *store.Transaction) {
	var fields [16]*string
	f := append(fields[:0], &tx.TransactionNumber, &tx.ReferenceNumber, &tx.CustomerName, &tx.CustomerEmail,
		&tx.CustomerPhoneNumber, &tx.FinishNotifyURL, &tx.FinishReturnURL, &tx.PaymentDest, &tx.PaymentDestName)
	for i := range tx.Items {
		f = append(f, &tx.Items[i].Name)
	}
	n := 0
	for _, p := range f {
		n += len(*p)
	}
	var b strings.Builder
	b.Grow(n)
	for _, p := range f {
		b.WriteString(*p)
	}
	all := b.String()
	for _, p := range f {
		*p, all = all[:len(*p)], all[len(*p):]
	}
}
