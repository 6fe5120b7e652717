package pgstore_test

import (
	"context"
	"testing"

	"github.com/bjpay/bjpay-sandbox/mock/store"
	"github.com/bjpay/bjpay-sandbox/mock/store/pgstore"
	"github.com/bjpay/bjpay-sandbox/mock/store/pgstore/pgtest"
	"github.com/bjpay/bjpay-sandbox/mock/store/storetest"
)

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := pgstore.Open(context.Background(), pgtest.DSN(t))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
