package googleadsapifake

import (
	"encoding/json"
	"net/http"
	"strings"

	adserrors "github.com/shenzhencenter/google-ads-pb/errors"
	"github.com/shenzhencenter/google-ads-pb/services"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
)

// maxRows is the most conversions or adjustments one request may carry.
const maxRows = 2000

// strict rejects unknown fields, as Google's JSON transcoding does.
var strict = protojson.UnmarshalOptions{DiscardUnknown: false}

func (f *Fake) uploadClicks(w http.ResponseWriter, cid string, body []byte) {
	f.mu.Lock()
	refused := f.notAllowlisted
	f.mu.Unlock()
	if refused {
		writeError(w, http.StatusForbidden, "The caller does not have permission",
			requestError(&adserrors.ErrorCode{ErrorCode: &adserrors.ErrorCode_NotAllowlistedError{
				NotAllowlistedError: adserrors.NotAllowlistedErrorEnum_CUSTOMER_NOT_ALLOWLISTED_FOR_THIS_FEATURE}},
				"Customer is not on the allowlist for this feature."))
		return
	}
	var req services.UploadClickConversionsRequest
	if !decode(w, body, &req) || !checkRequest(w, req.PartialFailure, len(req.Conversions),
		uploadCode(adserrors.ConversionUploadErrorEnum_TOO_MANY_CONVERSIONS_IN_REQUEST)) {
		return
	}
	var results []json.RawMessage
	var errs []*adserrors.GoogleAdsError
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, c := range req.Conversions {
		if e := f.checkClick(cid, c); e != nil {
			errs = append(errs, rowError(e.code, e.message, "conversions", i))
			results = append(results, json.RawMessage(`{}`))
			continue
		}
		if !req.ValidateOnly {
			f.recordClick(c)
		}
		results = append(results, marshal(&services.ClickConversionResult{
			Gclid: c.Gclid, Gbraid: c.Gbraid, Wbraid: c.Wbraid, ConversionAction: c.ConversionAction,
			ConversionDateTime: c.ConversionDateTime, UserIdentifiers: c.UserIdentifiers,
		}))
	}
	writeUpload(w, results, errs)
}

func (f *Fake) uploadAdjustments(w http.ResponseWriter, cid string, body []byte) {
	var req services.UploadConversionAdjustmentsRequest
	if !decode(w, body, &req) || !checkRequest(w, req.PartialFailure, len(req.ConversionAdjustments),
		adjustmentCode(adserrors.ConversionAdjustmentUploadErrorEnum_TOO_MANY_ADJUSTMENTS_IN_REQUEST)) {
		return
	}
	var results []json.RawMessage
	var errs []*adserrors.GoogleAdsError
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, a := range req.ConversionAdjustments {
		if e := f.checkAdjustment(cid, a); e != nil {
			errs = append(errs, rowError(e.code, e.message, "conversion_adjustments", i))
			results = append(results, json.RawMessage(`{}`))
			continue
		}
		if !req.ValidateOnly {
			f.adjustments = append(f.adjustments, a)
			if a.AdjustmentType.String() == "RETRACTION" {
				f.retracted[a.GetOrderId()+"|"+a.GetConversionAction()] = true
			}
		}
		results = append(results, marshal(&services.ConversionAdjustmentResult{
			OrderId: a.GetOrderId(), GclidDateTimePair: a.GclidDateTimePair, ConversionAction: a.ConversionAction,
			AdjustmentDateTime: a.AdjustmentDateTime, AdjustmentType: a.AdjustmentType,
		}))
	}
	writeUpload(w, results, errs)
}

// decode unmarshals body strictly into m, answering 400 as Google's JSON
// transcoding does when it cannot.
func decode(w http.ResponseWriter, body []byte, m proto.Message) bool {
	if err := strict.Unmarshal(body, m); err != nil {
		writeError(w, http.StatusBadRequest, "Invalid JSON payload received. "+strings.TrimSpace(err.Error()))
		return false
	}
	return true
}

// checkRequest enforces what holds for the whole request: partialFailure
// must be true (Google refuses conversion uploads without it) and 1 to
// 2000 rows.
func checkRequest(w http.ResponseWriter, partialFailure bool, rows int, tooMany *adserrors.ErrorCode) bool {
	switch {
	case !partialFailure:
		writeError(w, http.StatusBadRequest, "Request contains an invalid argument.",
			requestError(&adserrors.ErrorCode{ErrorCode: &adserrors.ErrorCode_PartialFailureError{
				PartialFailureError: adserrors.PartialFailureErrorEnum_PARTIAL_FAILURE_MODE_REQUIRED}},
				"The partial failure field was false in the request. This method requires this field be set to true."))
	case rows == 0:
		writeError(w, http.StatusBadRequest, "Request contains an invalid argument.",
			requestError(fieldCode(adserrors.FieldErrorEnum_REQUIRED_NONEMPTY_LIST), "The list must not be empty."))
	case rows > maxRows:
		writeError(w, http.StatusBadRequest, "Request contains an invalid argument.",
			requestError(tooMany, "The request has more than 2000 rows."))
	default:
		return true
	}
	return false
}

func (f *Fake) recordClick(c *services.ClickConversion) {
	f.conversions = append(f.conversions, c)
	f.recorded[clickKey(c)] = true
	if c.GetOrderId() != "" {
		at, _ := parseDateTime(c.GetConversionDateTime())
		f.orders[c.GetOrderId()] = at
	}
}

func clickKey(c *services.ClickConversion) string {
	return c.GetGclid() + c.Gbraid + c.Wbraid + "|" + c.GetConversionDateTime() + "|" + c.GetConversionAction()
}

func marshal(m proto.Message) json.RawMessage {
	b, _ := protojson.Marshal(m)
	return b
}
