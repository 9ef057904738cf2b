package googleadsapifake

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"

	adserrors "github.com/shenzhencenter/google-ads-pb/errors"
	"google.golang.org/protobuf/encoding/protojson"
)

// failureType is the @type of a GoogleAdsFailure in API version v26.
const failureType = "type.googleapis.com/google.ads.googleads.v26.errors.GoogleAdsFailure"

// statusNames are the google.rpc codes Google puts in "status".
var statusNames = map[int]string{
	http.StatusBadRequest:          "INVALID_ARGUMENT",
	http.StatusUnauthorized:        "UNAUTHENTICATED",
	http.StatusForbidden:           "PERMISSION_DENIED",
	http.StatusNotFound:            "NOT_FOUND",
	http.StatusMethodNotAllowed:    "UNIMPLEMENTED",
	http.StatusTooManyRequests:     "RESOURCE_EXHAUSTED",
	http.StatusInternalServerError: "INTERNAL",
	http.StatusServiceUnavailable:  "UNAVAILABLE",
}

// failureDetail renders a GoogleAdsFailure as the JSON of a details
// entry, typed as v26's.
func failureDetail(errs []*adserrors.GoogleAdsError, requestID string) json.RawMessage {
	b, _ := protojson.Marshal(&adserrors.GoogleAdsFailure{Errors: errs, RequestId: requestID})
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	m["@type"] = failureType
	out, _ := json.Marshal(m)
	return out
}

// writeError answers a whole-request failure in Google's error shape,
// with a GoogleAdsFailure in details when errs are given.
func writeError(w http.ResponseWriter, status int, message string, errs ...*adserrors.GoogleAdsError) {
	name := statusNames[status]
	if name == "" {
		name = "UNKNOWN"
	}
	body := map[string]any{"code": status, "message": message, "status": name}
	id := newRequestID()
	if len(errs) > 0 {
		body["details"] = []json.RawMessage{failureDetail(errs, id)}
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Header().Set("request-id", id)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": body})
}

// writeUpload answers 200 with results and, when rows failed, a
// partialFailureError (google.rpc.Status code 3, INVALID_ARGUMENT).
func writeUpload(w http.ResponseWriter, results []json.RawMessage, errs []*adserrors.GoogleAdsError) {
	id := newRequestID()
	body := map[string]any{"results": results}
	if len(errs) > 0 {
		msg := errs[0].GetMessage()
		if len(errs) > 1 {
			msg = "Multiple errors in ‘details’. First error: " + msg
		}
		body["partialFailureError"] = map[string]any{
			"code": 3, "message": msg, "details": []json.RawMessage{failureDetail(errs, id)},
		}
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.Header().Set("request-id", id)
	_ = json.NewEncoder(w).Encode(body)
}

// rowError is a GoogleAdsError located at field[index].
func rowError(code *adserrors.ErrorCode, message, field string, index int) *adserrors.GoogleAdsError {
	i := int32(index)
	return &adserrors.GoogleAdsError{
		ErrorCode: code,
		Message:   message,
		Location: &adserrors.ErrorLocation{FieldPathElements: []*adserrors.ErrorLocation_FieldPathElement{
			{FieldName: field, Index: &i},
		}},
	}
}

func requestError(code *adserrors.ErrorCode, message string) *adserrors.GoogleAdsError {
	return &adserrors.GoogleAdsError{ErrorCode: code, Message: message}
}

// Error codes the fake answers with.
func uploadCode(c adserrors.ConversionUploadErrorEnum_ConversionUploadError) *adserrors.ErrorCode {
	return &adserrors.ErrorCode{ErrorCode: &adserrors.ErrorCode_ConversionUploadError{ConversionUploadError: c}}
}

func adjustmentCode(c adserrors.ConversionAdjustmentUploadErrorEnum_ConversionAdjustmentUploadError) *adserrors.ErrorCode {
	return &adserrors.ErrorCode{ErrorCode: &adserrors.ErrorCode_ConversionAdjustmentUploadError{ConversionAdjustmentUploadError: c}}
}

func fieldCode(c adserrors.FieldErrorEnum_FieldError) *adserrors.ErrorCode {
	return &adserrors.ErrorCode{ErrorCode: &adserrors.ErrorCode_FieldError{FieldError: c}}
}

func dateCode(c adserrors.DateErrorEnum_DateError) *adserrors.ErrorCode {
	return &adserrors.ErrorCode{ErrorCode: &adserrors.ErrorCode_DateError{DateError: c}}
}

func sizeCode(c adserrors.CollectionSizeErrorEnum_CollectionSizeError) *adserrors.ErrorCode {
	return &adserrors.ErrorCode{ErrorCode: &adserrors.ErrorCode_CollectionSizeError{CollectionSizeError: c}}
}

func requestCode(c adserrors.RequestErrorEnum_RequestError) *adserrors.ErrorCode {
	return &adserrors.ErrorCode{ErrorCode: &adserrors.ErrorCode_RequestError{RequestError: c}}
}

func authCode(c adserrors.AuthenticationErrorEnum_AuthenticationError) *adserrors.ErrorCode {
	return &adserrors.ErrorCode{ErrorCode: &adserrors.ErrorCode_AuthenticationError{AuthenticationError: c}}
}

func newRequestID() string {
	b := make([]byte, 11)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
