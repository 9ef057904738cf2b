package attribution

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/trackstack/trackstack/runtime/event"
)

const (
	direct = event.ChannelDirect
	email  = event.ChannelEmail
	paid   = event.ChannelPaidSearch
	social = event.ChannelPaidSocial
	search = event.ChannelOrganicSearch
)

// row is a want entry: conversions and revenue.
type row = [2]float64

func TestRuleModels(t *testing.T) {
	// Direct only: two direct visits, one sale of 100.
	directOnly := []Journey{journey(one(100), ch(direct, -3), ch(direct, -1))}
	// One email visit two days before a sale of 50.
	single := []Journey{journey(one(50), ch(email, -2))}
	// Stitched: the caller merged a phone (paid social, 5 days before) and a
	// laptop (email 2 days before, direct 1 day before), out of order.
	// Sorted: paid_social, email, direct. Sale of 90.
	stitched := []Journey{journey(one(90), ch(direct, -1), ch(social, -5), ch(email, -2))}
	// Two sales in one journey, 7-day window:
	//   sale A (100) at day −2 sees (−9, −2]: paid_search(−3); email(−10) is out.
	//   sale B (60) at day 0 sees (−7, 0]: paid_search(−3), organic_search(−1).
	twoSales := []Journey{journey([]Conversion{conv(100, -2), conv(60, 0)},
		ch(email, -10), ch(paid, -3), ch(search, -1))}
	// Five distinct channels for position-based, a sale of 300.
	five := []Journey{journey(one(300), ch("a", -5), ch("b", -4), ch("c", -3), ch("d", -2), ch("e", -1))}

	tests := []struct {
		name     string
		model    Model
		journeys []Journey
		window   Window
		want     map[string]row
	}{
		{"first touch, direct only", FirstTouch, directOnly, Window7Days, map[string]row{direct: {1, 100}}},
		{"last touch, direct only", LastTouch, directOnly, Window7Days, map[string]row{direct: {1, 100}}},
		// Nothing but direct: the newest direct touch keeps the credit.
		{"last non-direct, direct only", LastNonDirect, directOnly, Window7Days, map[string]row{direct: {1, 100}}},
		{"linear, direct only", Linear, directOnly, Window7Days, map[string]row{direct: {1, 100}}},
		{"position, direct only", PositionBased, directOnly, Window7Days, map[string]row{direct: {1, 100}}},
		{"time decay, direct only", TimeDecay{}, directOnly, Window7Days, map[string]row{direct: {1, 100}}},

		{"first touch, single", FirstTouch, single, Window7Days, map[string]row{email: {1, 50}}},
		{"last touch, single", LastTouch, single, Window7Days, map[string]row{email: {1, 50}}},
		{"last non-direct, single", LastNonDirect, single, Window7Days, map[string]row{email: {1, 50}}},
		{"linear, single", Linear, single, Window7Days, map[string]row{email: {1, 50}}},
		{"position, single", PositionBased, single, Window7Days, map[string]row{email: {1, 50}}},
		{"time decay, single", TimeDecay{}, single, Window7Days, map[string]row{email: {1, 50}}},

		// The email touch at day −2 is outside a 1-day window: nothing to credit.
		{"outside window", LastTouch, single, Window1Day, map[string]row{NoTouchKey: {1, 50}}},
		// Window bounds: a touch exactly 7 days before does not count, one
		// at the conversion's instant does.
		{"window is open at its start", Linear, []Journey{journey(one(10), ch(email, -7))}, Window7Days,
			map[string]row{NoTouchKey: {1, 10}}},
		{"window is closed at the conversion", Linear, []Journey{journey(one(10), ch(email, -7), ch(paid, 0))}, Window7Days,
			map[string]row{paid: {1, 10}}},
		{"no touches at all", FirstTouch, []Journey{{Conversions: one(20)}}, Window90Days, map[string]row{NoTouchKey: {1, 20}}},
		{"no conversions", Linear, []Journey{{Touches: []Touch{ch(email, -1)}}}, Window7Days, map[string]row{}},

		{"first touch, stitched", FirstTouch, stitched, Window7Days, map[string]row{social: {1, 90}}},
		{"last touch, stitched", LastTouch, stitched, Window7Days, map[string]row{direct: {1, 90}}},
		{"last non-direct, stitched", LastNonDirect, stitched, Window7Days, map[string]row{email: {1, 90}}},
		// 90/3 = 30 each.
		{"linear, stitched", Linear, stitched, Window7Days, map[string]row{social: {1. / 3, 30}, email: {1. / 3, 30}, direct: {1. / 3, 30}}},
		// 40/20/40 % of 90 = 36, 18, 36.
		{"position, stitched", PositionBased, stitched, Window7Days, map[string]row{social: {.4, 36}, email: {.2, 18}, direct: {.4, 36}}},

		// A → paid_search; B's first touch is paid_search too: 2 sales, 160.
		{"first touch, two sales", FirstTouch, twoSales, Window7Days, map[string]row{paid: {2, 160}}},
		// A → paid_search 100; B → organic_search 60.
		{"last touch, two sales", LastTouch, twoSales, Window7Days, map[string]row{paid: {1, 100}, search: {1, 60}}},
		// A: paid 1, 100. B: paid and organic ½ each, 30 each.
		{"linear, two sales", Linear, twoSales, Window7Days, map[string]row{paid: {1.5, 130}, search: {.5, 30}}},
		// 30 days: both sales see email(−10) first.
		{"first touch, two sales, 30 days", FirstTouch, twoSales, Window30Days, map[string]row{email: {2, 160}}},

		// Two touches: 50/50 of 80.
		{"position, 2 touches", PositionBased, []Journey{journey(one(80), ch(email, -2), ch(paid, -1))}, Window7Days,
			map[string]row{email: {.5, 40}, paid: {.5, 40}}},
		// Three touches: 40/20/40; email is first and last: 80% → 0.8, 80 of 100.
		{"position, 3 touches, repeated channel", PositionBased,
			[]Journey{journey(one(100), ch(email, -3), ch(paid, -2), ch(email, -1))}, Window7Days,
			map[string]row{email: {.8, 80}, paid: {.2, 20}}},
		// Five: a and e 40% (120 of 300); b, c, d share 20%: 6.67% each, 20.
		{"position, 5 touches", PositionBased, five, Window7Days, map[string]row{
			"a": {.4, 120}, "b": {.2 / 3, 20}, "c": {.2 / 3, 20}, "d": {.2 / 3, 20}, "e": {.4, 120}}},

		// Half-life 1 day, touches 2, 1 and 0 days before a sale of 70:
		// weights 2^−2, 2^−1, 2^0 = ¼, ½, 1, sum 7/4 → 1/7, 2/7, 4/7 → 10, 20, 40.
		{"time decay, 1-day half-life", TimeDecay{HalfLife: 24 * time.Hour},
			[]Journey{journey(one(70), ch(email, -2), ch(paid, -1), ch(direct, 0))}, Window7Days,
			map[string]row{email: {1. / 7, 10}, paid: {2. / 7, 20}, direct: {4. / 7, 40}}},
		// Default half-life 7 days, touches 7 days and 0 before, 30-day window:
		// weights ½ and 1 → ⅓, ⅔ → 10, 20.
		{"time decay, default half-life", TimeDecay{},
			[]Journey{journey(one(30), ch(email, -7), ch(paid, 0))}, Window30Days,
			map[string]row{email: {1. / 3, 10}, paid: {2. / 3, 20}}},
		// A 1-hour half-life over 90 days: the older touch's weight is
		// 2^−2160 relative, still the newest gets everything, not NaN.
		{"time decay, no underflow", TimeDecay{HalfLife: time.Hour},
			[]Journey{journey(one(5), ch(email, -89), ch(paid, -80))}, Window90Days,
			map[string]row{paid: {1, 5}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.model.Attribute(tc.journeys, DimensionChannel, tc.window)
			if err != nil {
				t.Fatal(err)
			}
			assertCredits(t, got, tc.want)
		})
	}
}

func TestDimensions(t *testing.T) {
	// Linear over an email (newsletter, dec) and a paid_search touch with no
	// campaign, sale of 100: 50/50 in every dimension.
	js := []Journey{journey(one(100),
		Touch{At: day(-2), Channel: email, Source: "newsletter", Campaign: "dec"},
		Touch{At: day(-1), Channel: paid, Source: "google"})}
	tests := []struct {
		dim  Dimension
		want map[string]row
	}{
		{DimensionChannel, map[string]row{email: {.5, 50}, paid: {.5, 50}}},
		{DimensionSource, map[string]row{"newsletter": {.5, 50}, "google": {.5, 50}}},
		{DimensionCampaign, map[string]row{"dec": {.5, 50}, NoneKey: {.5, 50}}},
	}
	for _, tc := range tests {
		t.Run(string(tc.dim), func(t *testing.T) {
			got, err := Linear.Attribute(js, tc.dim, Window7Days)
			if err != nil {
				t.Fatal(err)
			}
			assertCredits(t, got, tc.want)
		})
	}
}

func TestRowsOrderedByCredit(t *testing.T) {
	// Last touch: paid 2 sales, email 1 worth more, direct 1 worth less.
	js := []Journey{
		journey(one(10), ch(paid, -1)), journey(one(10), ch(paid, -1)),
		journey(one(50), ch(email, -1)), journey(one(5), ch(direct, -1)),
	}
	got, err := LastTouch.Attribute(js, DimensionChannel, Window7Days)
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, c := range got {
		keys = append(keys, c.Key)
	}
	if want := []string{paid, email, direct}; len(keys) != 3 || keys[0] != want[0] || keys[1] != want[1] || keys[2] != want[2] {
		t.Errorf("order %v, want %v", keys, want)
	}
}

func TestBadInput(t *testing.T) {
	ok := []Journey{journey(one(1), ch(email, -1))}
	tests := []struct {
		name     string
		model    Model
		journeys []Journey
		dim      Dimension
		window   Window
		want     error
	}{
		{"unknown dimension", Linear, ok, "medium", Window7Days, ErrDimension},
		{"unknown window", Linear, ok, DimensionChannel, 14, ErrWindow},
		{"refund is not a conversion", Linear, []Journey{journey(one(-5))}, DimensionChannel, Window7Days, ErrValue},
		{"NaN value", LastTouch, []Journey{journey(one(math.NaN()))}, DimensionChannel, Window7Days, ErrValue},
		{"value over the maximum", FirstTouch, []Journey{journey(one(2 * event.MaxAbsValue))}, DimensionChannel, Window7Days, ErrValue},
		{"infinite value", DataDriven{}, []Journey{journey(one(math.Inf(1)))}, DimensionChannel, Window7Days, ErrValue},
		{"total past 2^53 cents", Linear, repeat(100, journey(one(event.MaxAbsValue))), DimensionChannel, Window7Days, ErrRevenueTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.model.Attribute(tc.journeys, tc.dim, tc.window)
			if !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
	t.Run("negative half-life", func(t *testing.T) {
		if _, err := (TimeDecay{HalfLife: -time.Hour}).Attribute(ok, DimensionChannel, Window7Days); err == nil {
			t.Error("no error")
		}
	})
}

func TestByName(t *testing.T) {
	for _, m := range Models() {
		t.Run(m.Name(), func(t *testing.T) {
			got, err := ByName(m.Name())
			if err != nil || got.Name() != m.Name() {
				t.Errorf("ByName(%q) = %v, %v", m.Name(), got, err)
			}
		})
	}
	if _, err := ByName("u_shaped"); err == nil {
		t.Error("unknown model: no error")
	}
}
