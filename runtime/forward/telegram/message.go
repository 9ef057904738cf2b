package telegram

import (
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/trackstack/trackstack/runtime/event"
	"github.com/trackstack/trackstack/runtime/forward"
)

// MaxTextLen is Telegram's bound on a message, in UTF-16 code units.
const MaxTextLen = 4096

// zeroDecimal are the common currencies without minor units.
var zeroDecimal = map[string]bool{"JPY": true, "KRW": true, "VND": true, "CLP": true, "ISK": true, "UGX": true, "XAF": true, "XOF": true}

// Text is the alert for an item: see the package doc.
func Text(it forward.Item) string {
	ev := it.Event
	heading := strings.TrimSpace(it.Name)
	if heading == "" {
		heading = ev.Name
	}
	lines := []string{headline(heading, ev)}
	if s := sourceLine(ev); s != "" {
		lines = append(lines, s)
	}
	if ev.URL != "" {
		lines = append(lines, "Page: "+ev.URL)
	}
	if ev.OrderID != "" {
		lines = append(lines, "Order "+ev.OrderID)
	}
	return truncateUTF16(strings.Join(lines, "\n"), MaxTextLen)
}

func headline(heading string, ev event.Event) string {
	if ev.Value == nil {
		return "🔔 " + heading
	}
	cur := strings.ToUpper(strings.TrimSpace(ev.Currency))
	decimals := 2
	if zeroDecimal[cur] {
		decimals = 0
	}
	amount := strconv.FormatFloat(*ev.Value, 'f', decimals, 64)
	return strings.TrimSpace("💰 " + heading + ": " + amount + " " + cur)
}

func sourceLine(ev event.Event) string {
	var parts []string
	switch src := ev.UTM.Source; {
	case src != "" && ev.UTM.Medium != "":
		parts = append(parts, "Source: "+src+" / "+ev.UTM.Medium)
	case src != "":
		parts = append(parts, "Source: "+src)
	case ev.Channel != "":
		parts = append(parts, "Source: "+ev.Channel)
	}
	if ev.UTM.Campaign != "" {
		parts = append(parts, "Campaign: "+ev.UTM.Campaign)
	}
	return strings.Join(parts, " · ")
}

// truncateUTF16 cuts s to at most n UTF-16 code units, ending in "…".
func truncateUTF16(s string, n int) string {
	if len(utf16.Encode([]rune(s))) <= n {
		return s
	}
	units := 0
	for i, r := range s {
		w := utf16.RuneLen(r)
		if units+w > n-1 { // room for the ellipsis
			return s[:i] + "…"
		}
		units += w
	}
	return s
}
