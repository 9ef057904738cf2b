package googleadsapifake

import (
	"fmt"
	"regexp"
	"time"

	"github.com/shenzhencenter/google-ads-pb/common"
	adserrors "github.com/shenzhencenter/google-ads-pb/errors"
	"github.com/shenzhencenter/google-ads-pb/services"
)

// dateTimeLayout is "yyyy-mm-dd hh:mm:ss+|-hh:mm": the zone is required.
const dateTimeLayout = "2006-01-02 15:04:05-07:00"

// maxIdentifiers is the most user identifiers one conversion may carry.
const maxIdentifiers = 5

var (
	conversionAction = regexp.MustCompile(`^customers/([0-9]{10})/conversionActions/[0-9]+$`)
	hexDigest        = regexp.MustCompile(`^[0-9a-fA-F]{64}$`)
	clickID          = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	currency         = regexp.MustCompile(`^[A-Z]{3}$`)
)

// problem is one row's error.
type problem struct {
	code    *adserrors.ErrorCode
	message string
}

func fail(code *adserrors.ErrorCode, format string, args ...any) *problem {
	return &problem{code, fmt.Sprintf(format, args...)}
}

func parseDateTime(s string) (time.Time, error) { return time.Parse(dateTimeLayout, s) }

// checkClick applies the rules of a ClickConversion the proto cannot
// express. Called with f.mu held.
func (f *Fake) checkClick(cid string, c *services.ClickConversion) *problem {
	if p := checkAction(cid, c.GetConversionAction()); p != nil {
		return p
	}
	if _, err := parseDateTime(c.GetConversionDateTime()); err != nil {
		return fail(dateCode(adserrors.DateErrorEnum_INVALID_STRING_DATE_TIME_SECONDS),
			"conversion_date_time %q is not yyyy-mm-dd hh:mm:ss+|-hh:mm", c.GetConversionDateTime())
	}
	if p := checkClickIDs(c); p != nil {
		return p
	}
	if p := checkIdentifiers(c.UserIdentifiers); p != nil {
		return p
	}
	if c.GetGclid() == "" && c.Gbraid == "" && c.Wbraid == "" && len(c.UserIdentifiers) == 0 {
		return fail(fieldCode(adserrors.FieldErrorEnum_REQUIRED),
			"a conversion needs a gclid, gbraid or wbraid, or user identifiers (enhanced conversions for leads)")
	}
	if c.ConversionValue != nil && c.GetConversionValue() < 0 {
		return fail(fieldCode(adserrors.FieldErrorEnum_INVALID_VALUE), "conversion_value %v is negative", c.GetConversionValue())
	}
	if c.CurrencyCode != nil && !currency.MatchString(c.GetCurrencyCode()) {
		return fail(fieldCode(adserrors.FieldErrorEnum_INVALID_VALUE), "currency_code %q is not an ISO 4217 code", c.GetCurrencyCode())
	}
	return f.checkClickState(c)
}

// checkClickIDs allows at most one of gclid, gbraid and wbraid.
func checkClickIDs(c *services.ClickConversion) *problem {
	if c.Gbraid != "" && c.Wbraid != "" {
		return fail(uploadCode(adserrors.ConversionUploadErrorEnum_GBRAID_WBRAID_BOTH_SET), "gbraid and wbraid are both set")
	}
	if c.GetGclid() != "" && (c.Gbraid != "" || c.Wbraid != "") {
		return fail(fieldCode(adserrors.FieldErrorEnum_VALUE_MUST_BE_UNSET), "set only one of gclid, gbraid and wbraid")
	}
	if g := c.GetGclid(); g != "" && !clickID.MatchString(g) {
		return fail(uploadCode(adserrors.ConversionUploadErrorEnum_UNPARSEABLE_GCLID), "The imported gclid could not be decoded.")
	}
	return nil
}

// checkIdentifiers wants at most 5, each one hashed email or phone.
func checkIdentifiers(ids []*common.UserIdentifier) *problem {
	if len(ids) > maxIdentifiers {
		return fail(sizeCode(adserrors.CollectionSizeErrorEnum_TOO_MANY), "%d user identifiers; at most %d", len(ids), maxIdentifiers)
	}
	for i, id := range ids {
		var v string
		switch x := id.GetIdentifier().(type) {
		case *common.UserIdentifier_HashedEmail:
			v = x.HashedEmail
		case *common.UserIdentifier_HashedPhoneNumber:
			v = x.HashedPhoneNumber
		case nil:
			return fail(uploadCode(adserrors.ConversionUploadErrorEnum_INVALID_USER_IDENTIFIER), "user_identifiers[%d] holds no identifier", i)
		default:
			return fail(uploadCode(adserrors.ConversionUploadErrorEnum_UNSUPPORTED_USER_IDENTIFIER),
				"user_identifiers[%d]: only hashed_email and hashed_phone_number are supported for conversion uploads", i)
		}
		if !hexDigest.MatchString(v) {
			return fail(uploadCode(adserrors.ConversionUploadErrorEnum_INVALID_USER_IDENTIFIER),
				"user_identifiers[%d] is not a SHA-256 hex digest", i)
		}
	}
	return nil
}

// checkClickState answers what Google knows: conversions already
// recorded, and the knobs set with MarkGclid.
func (f *Fake) checkClickState(c *services.ClickConversion) *problem {
	if f.recorded[clickKey(c)] {
		return fail(uploadCode(adserrors.ConversionUploadErrorEnum_CLICK_CONVERSION_ALREADY_EXISTS),
			"The imported event has the same click and conversion_date_time as an existing conversion.")
	}
	switch f.marks[c.GetGclid()] {
	case AlreadyExists:
		return fail(uploadCode(adserrors.ConversionUploadErrorEnum_CLICK_CONVERSION_ALREADY_EXISTS),
			"The imported event has the same click and conversion_date_time as an existing conversion.")
	case TooRecent:
		return fail(uploadCode(adserrors.ConversionUploadErrorEnum_TOO_RECENT_EVENT),
			"The click associated with the given identifier occurred less than 6 hours ago. Retry after 6 hours have passed.")
	case Expired:
		return fail(uploadCode(adserrors.ConversionUploadErrorEnum_EXPIRED_EVENT),
			"The imported event happened too long after the click to be attributed to it.")
	}
	return nil
}

func checkAction(cid, action string) *problem {
	m := conversionAction.FindStringSubmatch(action)
	switch {
	case m == nil:
		return fail(requestCode(adserrors.RequestErrorEnum_RESOURCE_NAME_MALFORMED),
			"conversion_action %q is not customers/{customer_id}/conversionActions/{id}", action)
	case m[1] != cid:
		return fail(uploadCode(adserrors.ConversionUploadErrorEnum_NO_CONVERSION_ACTION_FOUND),
			"conversion_action %q is not of customer %s", action, cid)
	}
	return nil
}

// checkAdjustment applies the rules of a ConversionAdjustment the proto
// cannot express. Called with f.mu held.
func (f *Fake) checkAdjustment(cid string, a *services.ConversionAdjustment) *problem {
	if p := checkAction(cid, a.GetConversionAction()); p != nil {
		return p
	}
	at, err := parseDateTime(a.GetAdjustmentDateTime())
	if err != nil {
		return fail(dateCode(adserrors.DateErrorEnum_INVALID_STRING_DATE_TIME_SECONDS),
			"adjustment_date_time %q is not yyyy-mm-dd hh:mm:ss+|-hh:mm", a.GetAdjustmentDateTime())
	}
	if p := checkAdjustmentType(a); p != nil {
		return p
	}
	converted, p := f.conversionTime(a)
	if p != nil {
		return p
	}
	if !at.After(converted) {
		return fail(adjustmentCode(adserrors.ConversionAdjustmentUploadErrorEnum_ADJUSTMENT_PRECEDES_CONVERSION),
			"Adjustment has an adjustment_date_time that occurred before the associated conversion.")
	}
	if f.retracted[a.GetOrderId()+"|"+a.GetConversionAction()] {
		return fail(adjustmentCode(adserrors.ConversionAdjustmentUploadErrorEnum_CONVERSION_ALREADY_RETRACTED),
			"The conversion has already been retracted.")
	}
	return nil
}

func checkAdjustmentType(a *services.ConversionAdjustment) *problem {
	switch a.AdjustmentType.String() {
	case "RETRACTION":
		if a.RestatementValue != nil {
			return fail(fieldCode(adserrors.FieldErrorEnum_VALUE_MUST_BE_UNSET), "a RETRACTION takes no restatement_value")
		}
	case "RESTATEMENT":
		if a.RestatementValue == nil || a.RestatementValue.AdjustedValue == nil {
			return fail(fieldCode(adserrors.FieldErrorEnum_REQUIRED), "a RESTATEMENT needs restatement_value.adjusted_value")
		}
		if a.RestatementValue.GetAdjustedValue() < 0 {
			return fail(fieldCode(adserrors.FieldErrorEnum_INVALID_VALUE), "adjusted_value %v is negative", a.RestatementValue.GetAdjustedValue())
		}
	case "ENHANCEMENT":
		if p := checkIdentifiers(a.UserIdentifiers); p != nil {
			return p
		}
	default:
		return fail(fieldCode(adserrors.FieldErrorEnum_REQUIRED), "adjustment_type is required")
	}
	return nil
}

// conversionTime finds the conversion an adjustment names: by order id
// among the recorded ones, or by its gclid_date_time_pair (not both).
func (f *Fake) conversionTime(a *services.ConversionAdjustment) (time.Time, *problem) {
	pair := a.GclidDateTimePair
	switch {
	case a.GetOrderId() != "" && pair != nil:
		return time.Time{}, fail(adjustmentCode(adserrors.ConversionAdjustmentUploadErrorEnum_GCLID_DATE_TIME_PAIR_AND_ORDER_ID_BOTH_SET),
			"Both gclid_date_time_pair and order_id are set.")
	case pair != nil:
		t, err := parseDateTime(pair.GetConversionDateTime())
		if err != nil || pair.GetGclid() == "" {
			return time.Time{}, fail(dateCode(adserrors.DateErrorEnum_INVALID_STRING_DATE_TIME_SECONDS),
				"gclid_date_time_pair needs a gclid and a conversion_date_time with its zone")
		}
		return t, nil
	case a.GetOrderId() != "":
		t, ok := f.orders[a.GetOrderId()]
		if !ok {
			return time.Time{}, fail(adjustmentCode(adserrors.ConversionAdjustmentUploadErrorEnum_CONVERSION_NOT_FOUND),
				"The conversion for this conversion action and conversion identifier can't be found.")
		}
		return t, nil
	}
	return time.Time{}, fail(fieldCode(adserrors.FieldErrorEnum_REQUIRED), "an adjustment needs an order_id or a gclid_date_time_pair")
}
