package pinterestfake

import (
	"bytes"
	_ "embed"
	"fmt"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// specJSON is Pinterest's OpenAPI description of API v5 (v5.23.0), as
// Pinterest publishes it. Only its ConversionEvents schema (and what that
// references) is compiled: the whole document is not validated.
//
//go:embed pinterest-v5-openapi.json
var specJSON []byte

const (
	specURL          = "https://api.pinterest.com/v5/openapi.json"
	conversionEvents = specURL + "#/components/schemas/ConversionEvents"
)

// compileSchema compiles ConversionEvents. OpenAPI 3.0 schemas are read as
// JSON Schema 2020-12, whose $ref keeps its sibling keywords: Pinterest's
// user_data rule (em, hashed_maids, or IP and user agent) is an anyOf of
// "$ref + required" and would be lost under older drafts.
func compileSchema() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(specJSON))
	if err != nil {
		return nil, fmt.Errorf("reading the Pinterest OpenAPI description: %w", err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(specURL, doc); err != nil {
		return nil, fmt.Errorf("adding the Pinterest OpenAPI description: %w", err)
	}
	s, err := c.Compile(conversionEvents)
	if err != nil {
		return nil, fmt.Errorf("compiling ConversionEvents: %w", err)
	}
	return s, nil
}
