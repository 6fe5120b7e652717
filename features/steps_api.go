package features

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/cucumber/godog"
)

// Target is the sandbox under test, reached over HTTP only.
type Target struct {
	// BaseURL replaces https://api.bjpay.co.id, e.g. http://127.0.0.1:8080.
	BaseURL string
	// ClientID and ClientSecret are a merchant's credentials on the sandbox.
	ClientID, ClientSecret string
	// Client sends the requests; http.DefaultClient when nil.
	Client *http.Client
}

// apiWorld is one scenario's state: what the merchant sends and what it
// got back. A fresh one is made for every scenario.
type apiWorld struct {
	target  Target
	headers map[string]string // header overrides; "" removes the header
	ref     string            // the reference of the payment the scenario created

	// the last exchange, for assertions and error messages
	request  string
	status   int
	body     []byte
	envelope struct {
		Code    string          `json:"code"`
		Message string          `json:"message"`
		Data    json.RawMessage `json:"data"`
	}
}

// InitializeScenario returns godog's scenario initializer for the steps of
// the BJPAY surface, against target.
func InitializeScenario(target Target) func(*godog.ScenarioContext) {
	if target.Client == nil {
		target.Client = http.DefaultClient
	}
	return func(sc *godog.ScenarioContext) {
		w := &apiWorld{target: target, headers: map[string]string{}, ref: newReference("FEAT-")}
		isolateClock(sc, func() sandboxAPI { return sandboxAPI{target.BaseURL, target.Client} }, target.ClientID)
		initNotifySteps(sc, w)

		sc.Step(`^the merchant lists the payment channels$`, w.listChannels)
		sc.Step(`^the merchant (?:creates|created) the documented example payment(?: again)?$`, w.createExample)
		sc.Step(`^the merchant creates the documented example payment with "([^"]+)" set to (.+)$`, w.createWith)
		sc.Step(`^the merchant inquires that payment$`, func(ctx context.Context) error { return w.inquire(ctx, w.ref) })
		sc.Step(`^the merchant inquires the reference "([^"]+)"$`, w.inquire)
		sc.Step(`^the merchant sends the header "([^"]+)" as "([^"]*)"$`, w.setHeader)

		sc.Step(`^the answer is HTTP (\d+) with code "([^"]+)" and message "([^"]+)"$`, w.answerIs)
		sc.Step(`^the answer's data has "([^"]+)" equal to (.+)$`, w.dataHas)
		sc.Step(`^the channel "([^"]+)" is listed as (active|inactive)$`, w.channelListed)
	}
}

// exampleBody is BJPAY's documented Create Payment example, with the
// scenario's reference, an email and an expiry an hour ahead.
func (w *apiWorld) exampleBody() map[string]any {
	return map[string]any{
		"paymentCode":         "GOPAY",
		"referenceNumber":     w.ref,
		"customerName":        "BANGJEFF",
		"customerEmail":       "bangjeff@example.com",
		"customerPhoneNumber": "62123224456",
		"finishNotifyUrl":     "https://my-cool-apps.com/webhook/notify",
		"finishReturnUrl":     "https://my-cool-apps.com/thankyou",
		"expiredAt":           time.Now().Add(time.Hour).Format(time.RFC3339),
		"totalAmount":         58000,
		"items":               []any{map[string]any{"name": "MLBB Diamond - 250", "quantity": 1, "amount": 58000}},
	}
}

func (w *apiWorld) listChannels(ctx context.Context) error {
	return w.post(ctx, "/api/merchant/payment-channel", nil)
}

func (w *apiWorld) createExample(ctx context.Context) error {
	return w.post(ctx, "/api/merchant/transaction/create", w.exampleBody())
}

func (w *apiWorld) createWith(ctx context.Context, field, value string) error {
	var v any
	if err := json.Unmarshal([]byte(value), &v); err != nil {
		return fmt.Errorf("the value for %q must be a JSON literal (strings in double quotes), got %s: %w", field, value, err)
	}
	body := w.exampleBody()
	body[field] = v
	return w.post(ctx, "/api/merchant/transaction/create", body)
}

func (w *apiWorld) inquire(ctx context.Context, ref string) error {
	return w.post(ctx, "/api/merchant/transaction/inquiry/"+ref, nil)
}

func (w *apiWorld) setHeader(name, value string) error {
	w.headers[name] = value
	return nil
}

// post sends a BJPAY call with the documented headers (and the scenario's
// overrides) and records the answer.
func (w *apiWorld) post(ctx context.Context, path string, body map[string]any) error {
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			return err
		}
	}
	// Describe the request for error messages, without the secret.
	w.request = fmt.Sprintf("POST %s %s", path, raw)
	x := send(ctx, w.target.Client, sandboxCallTimeout, http.MethodPost, strings.TrimRight(w.target.BaseURL, "/")+path,
		bjpayHeader(w.target.ClientID, w.target.ClientSecret, w.headers), raw)
	switch {
	case x.status == 0:
		return fmt.Errorf("%s: %w", w.request, x.err)
	case x.err != nil:
		return fmt.Errorf("%s: reading the answer: %w", w.request, x.err)
	}
	w.status, w.body = x.status, x.body
	if err := json.Unmarshal(w.body, &w.envelope); err != nil {
		return fmt.Errorf("%s: the answer is not a BJPAY JSON envelope: %v\n%s", w.request, err, w.body)
	}
	return nil
}

func (w *apiWorld) answerIs(status int, code, message string) error {
	if w.status != status || w.envelope.Code != code || w.envelope.Message != message {
		return fmt.Errorf("expected HTTP %d with code %q and message %q, got HTTP %d with code %q and message %q\nrequest: %s\nanswer: %s",
			status, code, message, w.status, w.envelope.Code, w.envelope.Message, w.request, w.body)
	}
	return nil
}

func (w *apiWorld) dataHas(field, value string) error {
	var want, data map[string]any
	if err := json.Unmarshal([]byte(`{"v":`+value+`}`), &want); err != nil {
		return fmt.Errorf("the expected value must be a JSON literal, got %s", value)
	}
	if err := json.Unmarshal(w.envelope.Data, &data); err != nil {
		return fmt.Errorf("expected the answer's data to be an object, got %s", w.envelope.Data)
	}
	if got := data[field]; !reflect.DeepEqual(got, want["v"]) {
		return fmt.Errorf("expected data.%s to be %s, got %v\nanswer: %s", field, value, got, w.body)
	}
	return nil
}

func (w *apiWorld) channelListed(code, state string) error {
	var channels []struct {
		PaymentCode string `json:"paymentCode"`
		IsActive    bool   `json:"isActive"`
	}
	if err := json.Unmarshal(w.envelope.Data, &channels); err != nil {
		return fmt.Errorf("expected the answer's data to be a list of channels, got %s", w.envelope.Data)
	}
	for _, c := range channels {
		if c.PaymentCode == code {
			if c.IsActive != (state == "active") {
				return fmt.Errorf("expected channel %s to be %s, got isActive %v", code, state, c.IsActive)
			}
			return nil
		}
	}
	return fmt.Errorf("expected channel %s in the list, got %s", code, w.envelope.Data)
}
